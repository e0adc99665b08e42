"""The one client of the emulators' control surface (docs/DESIGN.md): reset, seed, ops, reads."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


class ControlSurfaceError(Exception):
    """The control surface refused a call; the message carries its status and reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"control surface answered {status}: {reason}")
        self.status = status


def segment(name: str) -> str:
    """A name as one URL path segment (guest UPNs hold `#`)."""
    return quote(name, safe="@")


@dataclass(frozen=True)
class StackTenant:
    """Where a seed goes: the Entra tenant, the Emply customer and their secrets."""

    tenant_id: str
    customer: str
    client_id: str
    client_secret: str
    api_key: str
    domains: tuple[str, ...] = ("contoso.com",)


class ControlSurface:
    """One HTTPS client for the control surface, trusting the emulators' CA."""

    def __init__(self, control_url: str, ca_file: str, timeout_s: float = 60.0) -> None:
        trust = ssl.create_default_context(cafile=ca_file)
        self.http = httpx.Client(base_url=control_url, verify=trust, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ControlSurface:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        if response.is_error:
            raise ControlSurfaceError(response.status_code, _reason(response))
        return response.json() if response.content else None

    def load_tenant(self, target: StackTenant, seed: dict[str, Any]) -> dict[str, Any]:
        """Reset both sides of `target` and bulk-load `seed` (`{"entra": {"users", "groups"},
        "emply": {"roles", "users", "employees"}}`); returns the counts loaded."""
        domains = list(target.domains)
        self.reset_graph(target.tenant_id, domains, target.client_id, target.client_secret)
        graph = self._call("POST", f"/graph/{segment(target.tenant_id)}/seed", seed["entra"])
        self.reset_emply(target.customer, target.api_key, [])
        emply = self._call("POST", f"/emply/{segment(target.customer)}/seed", seed["emply"])
        return {"graph": graph, "emply": emply}

    # Graph side, keyed by Entra tenant id

    def reset_graph(self, tenant_id: str, domains: list[str], client_id: str, secret: str) -> None:
        body = {"domains": domains, "client_id": client_id, "client_secret": secret}
        self._call("PUT", f"/graph/{segment(tenant_id)}", body)

    def seed_graph(self, tenant_id: str, users: list[dict], groups: list[dict]) -> None:
        self._call("POST", f"/graph/{segment(tenant_id)}/seed", {"users": users, "groups": groups})

    def graph_op(self, tenant_id: str, op: str, args: dict[str, Any]) -> Any:
        return self._call("POST", f"/graph/{segment(tenant_id)}/ops", {"op": op, "args": args})

    def graph_user(self, tenant_id: str, upn: str) -> dict[str, Any]:
        return self._call("GET", f"/graph/{segment(tenant_id)}/users/{segment(upn)}")

    def graph_users(self, tenant_id: str) -> list[dict[str, Any]]:
        """Every user of the tenant, soft-deleted ones included, as graph_user shows one."""
        return self._call("GET", f"/graph/{segment(tenant_id)}/users")

    def graph_stats(self, reset: bool = False) -> dict[str, Any]:
        """Request and resource-unit counters since the last reset (a reset refills the budget)."""
        return self._call("DELETE" if reset else "GET", "/graph/stats")

    def configure_graph(self, **config: Any) -> dict[str, Any]:
        """Latency, token lifetime, throttling budget (`POST /graph/config`); returns them all."""
        return self._call("POST", "/graph/config", config)

    # Emply side, keyed by customer

    def reset_emply(self, customer: str, api_key: str, roles: list[str | dict]) -> None:
        self._call("PUT", f"/emply/{segment(customer)}", {"api_key": api_key, "roles": roles})

    def seed_emply(self, customer: str, users: list[dict], employees: list[dict]) -> None:
        body = {"roles": [], "users": users, "employees": employees}
        self._call("POST", f"/emply/{segment(customer)}/seed", body)

    def emply_op(self, customer: str, op: str, args: dict[str, Any]) -> Any:
        return self._call("POST", f"/emply/{segment(customer)}/ops", {"op": op, "args": args})

    def emply_user(self, customer: str, username: str) -> dict[str, Any]:
        return self._call("GET", f"/emply/{segment(customer)}/users/{segment(username)}")

    def emply_users(self, customer: str) -> list[dict[str, Any]]:
        """Every user of the customer, deleted ones included, as emply_user shows one."""
        return self._call("GET", f"/emply/{segment(customer)}/users")

    def emply_stats(self, customer: str) -> dict[str, Any]:
        """`{"requests", "writes"}` of the customer since its reset."""
        return self._call("GET", f"/emply/{segment(customer)}/stats")

    # Login side, keyed by Entra tenant id

    def login_fault(self, tenant_id: str, **fault: Any) -> None:
        """The next `times` token requests of the tenant wait `delay_ms`, then answer `status`."""
        self._call("POST", f"/login/{segment(tenant_id)}/faults", fault)

    def login_token_requests(self, tenant_id: str) -> int:
        """Token requests of the tenant since the last `reset_login`."""
        return self._call("GET", "/login/stats")["token_requests"].get(tenant_id, 0)

    def reset_login(self) -> None:
        """Drop every pending login fault and count."""
        self._call("DELETE", "/login/stats")


def _reason(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    return str(error or response.text.strip() or response.reason_phrase)[:300]
