"""Faults of the login authority emulator (tests only): token requests that fail, throttle
or answer slowly, and how many token requests each tenant made."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

# status -> the OAuth error code and AADSTS text Entra answers with
FAULT_ERRORS = {
    429: ("temporarily_unavailable", 50196, "The server terminated an operation because it "
          "encountered a client request loop. Please contact your app vendor."),
    500: ("server_error", 90033, "A transient error has occurred. Please try again."),
    502: ("server_error", 90033, "A transient error has occurred. Please try again."),
    503: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
    504: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
}  # fmt: skip


@dataclass
class LoginFault:
    status: int | None  # None: the normal answer, after `delay_s`
    remaining: int
    retry_after: float | None
    delay_s: float


class LoginFaults:
    """Pending faults and token-request counts per Entra tenant id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, list[LoginFault]] = {}
        self.token_requests: dict[str, int] = {}

    def add(self, tenant_id: str, fault: LoginFault) -> None:
        with self._lock:
            self._faults.setdefault(tenant_id, []).append(fault)

    def take(self, tenant_id: str) -> LoginFault | None:
        """Count one token request; the tenant's first pending fault, one of its times used."""
        with self._lock:
            self.token_requests[tenant_id] = self.token_requests.get(tenant_id, 0) + 1
            pending = self._faults.get(tenant_id, [])
            if not pending:
                return None
            fault = pending[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                pending.pop(0)
            return fault

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.token_requests.clear()


async def apply_fault(fault: LoginFault | None) -> tuple[int, str, int, str, dict] | None:
    """Wait the fault's delay; the error to answer with, or None for the normal answer."""
    if fault is None:
        return None
    if fault.delay_s:
        await asyncio.sleep(fault.delay_s)
    if fault.status is None:
        return None
    error, code, message = FAULT_ERRORS.get(
        fault.status, ("server_error", 90033, "Injected fault.")
    )
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    return fault.status, error, code, message, headers


def create_login_control_app(faults: LoginFaults) -> Starlette:
    """Mounted at `/login` on the control server."""

    async def add_fault(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, dict) or set(body) - {"status", "times", "retry_after", "delay_ms"}:
            return JSONResponse(
                {"error": "fault: keys are status, times, retry_after, delay_ms"}, status_code=400
            )
        status, times = body.get("status"), body.get("times", 1)
        if status is not None and status not in FAULT_ERRORS and not 400 <= status < 600:
            return JSONResponse({"error": f"fault: status {status!r} is no error"}, 400)
        if not isinstance(times, int) or times < 1:
            return JSONResponse({"error": "fault: times must be a whole number >= 1"}, 400)
        fault = LoginFault(
            status, times, body.get("retry_after"), float(body.get("delay_ms", 0)) / 1000
        )
        faults.add(request.path_params["tenant"], fault)
        return JSONResponse({"tenant_id": request.path_params["tenant"], "times": times})

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse({"token_requests": dict(faults.token_requests)})

    async def reset(request: Request) -> JSONResponse:
        faults.reset()
        return JSONResponse({"token_requests": {}})

    return Starlette(
        routes=[
            Route("/stats", stats, methods=["GET"]),
            Route("/stats", reset, methods=["DELETE"]),
            Route("/{tenant}/faults", add_fault, methods=["POST"]),
        ]
    )
