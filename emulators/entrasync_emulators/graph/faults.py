"""Injected faults (SPEC's `fault` op): the next N requests under a path fail with a status."""

from __future__ import annotations

from entrasync_emulators.graph.directory import Fault, TenantDirectory
from entrasync_emulators.graph.messages import (
    GraphResponse,
    error_response,
    format_retry_after,
    throttled_response,
)

# status -> (Graph error code, message) of the error body a faulted request gets.
FAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Bad request."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: (
        "Request_ResourceNotFound",
        "Resource does not exist or one of its queried reference-property objects are not present.",
    ),
    409: ("Request_Conflict", "Conflict."),
    410: ("Gone", "The resource is gone."),
    412: ("PreconditionFailed", "Precondition failed."),
    500: ("InternalServerError", "Encountered an internal server error."),
    502: ("BadGateway", "Bad gateway."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway timed out."),
}


def normalize_fault_path(path: str) -> str:
    """`/groups`, `groups` and `/v1.0/groups` all mean the same Graph path prefix."""
    cleaned = "/" + path.strip().lstrip("/")
    if cleaned.lower() == "/v1.0" or cleaned.lower().startswith("/v1.0/"):
        cleaned = cleaned[len("/v1.0") :] or "/"
    return cleaned.lower()


def add_fault(
    tenant: TenantDirectory, path: str, status: int, times: int, retry_after: float | None
) -> Fault:
    fault = Fault(normalize_fault_path(path), status, times, retry_after)
    tenant.faults.append(fault)
    return fault


def take_fault(tenant: TenantDirectory, path: str) -> Fault | None:
    """The first pending fault whose path prefixes `path`; consumes one of its `times`."""
    lowered = path.lower()
    for fault in tenant.faults:
        if fault.remaining > 0 and lowered.startswith(fault.path):
            fault.remaining -= 1
            if fault.remaining == 0:
                tenant.faults.remove(fault)
            return fault
    return None


def fault_response(request_id: str, client_request_id: str, fault: Fault) -> GraphResponse:
    if fault.status == 429:
        return throttled_response(request_id, client_request_id, fault.retry_after)
    code, message = FAULT_ERRORS.get(fault.status, ("UnknownError", "Injected fault."))
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = format_retry_after(fault.retry_after)
    return error_response(request_id, client_request_id, fault.status, code, message, headers)
