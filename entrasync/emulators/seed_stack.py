"""Load a generated tenant into a running emulator stack through its control surface."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

SEED_TIMEOUT_S = 600


@dataclass(frozen=True)
class StackTenant:
    """Where a generated tenant goes: the Entra tenant, the Emply customer and their secrets."""

    tenant_id: str
    customer: str
    client_id: str
    client_secret: str
    api_key: str
    domains: tuple[str, ...] = ("contoso.com",)


def _post_json(client: httpx.Client, method: str, path: str, body: Any) -> dict[str, Any]:
    # One compact body: json.dumps is faster than httpx's encoder for 100k-user seeds.
    content = json.dumps(body, separators=(",", ":")).encode()
    response = client.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"control {method} {path}: {response.status_code} {response.text[:300]}")
    return response.json()


def seed_stack(
    control_url: str, ca_file: str, target: StackTenant, generated: dict[str, Any]
) -> dict[str, Any]:
    """Reset both sides of `target` and bulk-load the generated tenant; returns the counts."""
    verify = ssl.create_default_context(cafile=ca_file)
    with httpx.Client(base_url=control_url, verify=verify, timeout=SEED_TIMEOUT_S) as control:
        _post_json(control, "PUT", f"/graph/{target.tenant_id}", {
            "domains": list(target.domains), "client_id": target.client_id,
            "client_secret": target.client_secret})  # fmt: skip
        graph = _post_json(control, "POST", f"/graph/{target.tenant_id}/seed", generated["entra"])
        _post_json(control, "PUT", f"/emply/{target.customer}",
                   {"api_key": target.api_key, "roles": []})  # fmt: skip
        emply = _post_json(control, "POST", f"/emply/{target.customer}/seed", generated["emply"])
    return {"graph": graph, "emply": emply}
