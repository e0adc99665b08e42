"""Microsoft identity platform emulator: OIDC discovery and the client-credentials token grant."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from entrasync_emulators.graph.state import GraphState
from entrasync_emulators.login_faults import LoginFaults, apply_fault

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
MULTI_TENANT_SEGMENTS = {"common", "organizations", "consumers"}
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _authority_base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def openid_configuration(base: str, tenant: str) -> dict[str, object]:
    """The v2.0 discovery document, shaped like login.microsoftonline.com's."""
    root = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],  # fmt: skip
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def aad_error(request: Request, status: int, error: str, code: int, message: str) -> JSONResponse:
    """An Entra token-endpoint error: AADSTS code, trace and correlation ids, timestamp."""
    now = datetime.now(UTC)
    timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    description = (
        f"AADSTS{code}: {message} Trace ID: {trace_id} Correlation ID: {correlation_id} "
        f"Timestamp: {now.strftime('%Y-%m-%d %H:%M:%S')}Z"
    )
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{_authority_base(request)}/error?code={code}",
    }
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _tenant_not_found(request: Request, tenant: str) -> JSONResponse:
    return aad_error(
        request,
        400,
        "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud. Check with your subscription administrator, this "
        "may happen if there are no active subscriptions for the tenant.",
    )


def _basic_credentials(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def create_login_app(state: GraphState, faults: LoginFaults | None = None) -> Starlette:
    """The authority app; tenants, client credentials and token lifetime come from `state`,
    injected faults of token requests from `faults` (the control surface's `/login`)."""
    faults = faults or LoginFaults()

    async def discovery(request: Request) -> JSONResponse:
        tenant_key = request.path_params["tenant"]
        tenant = state.find_tenant(tenant_key)
        if tenant is None and tenant_key.lower() not in MULTI_TENANT_SEGMENTS:
            return JSONResponse(
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant_key}' not found. "
                    "Check to make sure you have the correct tenant ID and are signing into "
                    "the correct cloud.",
                    "error_codes": [90002],
                    "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                    "trace_id": str(uuid.uuid4()),
                    "correlation_id": str(uuid.uuid4()),
                },
                status_code=400,
            )
        tenant_segment = tenant.tenant_id if tenant else "{tenantid}"
        return JSONResponse(openid_configuration(_authority_base(request), tenant_segment))

    async def instance_discovery(request: Request) -> JSONResponse:
        base = _authority_base(request)
        host = urlparse(base).netloc
        endpoint = request.query_params.get("authorization_endpoint", "")
        path_parts = urlparse(endpoint).path.split("/")
        tenant = path_parts[1] if len(path_parts) > 1 and path_parts[1] else "common"
        return JSONResponse(
            {
                "tenant_discovery_endpoint": (
                    f"{base}/{tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {"preferred_network": host, "preferred_cache": host, "aliases": [host]}
                ],
            }
        )

    async def keys(request: Request) -> JSONResponse:
        # Tokens are HS256-signed with a key only the Graph emulator knows: nothing to publish.
        return JSONResponse({"keys": []})

    async def token(request: Request) -> JSONResponse:
        tenant_key = request.path_params["tenant"]
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
        basic_id, basic_secret = _basic_credentials(request)
        client_id = form.get("client_id") or basic_id
        secret = form.get("client_secret") or basic_secret
        grant_type = form.get("grant_type")
        tenant = state.find_tenant(tenant_key)
        if tenant is None:
            return _tenant_not_found(request, tenant_key)
        injected = await apply_fault(faults.take(tenant.tenant_id))
        if injected is not None:
            status, error, code, message, headers = injected
            answer = aad_error(request, status, error, code, message)
            answer.headers.update(headers)
            return answer
        if not grant_type:
            return aad_error(
                request, 400, "invalid_request", 900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )  # fmt: skip
        if grant_type != "client_credentials":
            return aad_error(
                request, 400, "unsupported_grant_type", 70003,
                "The app requested an unsupported grant type.",
            )  # fmt: skip
        if not client_id:
            return aad_error(
                request, 400, "invalid_request", 900144,
                "The request body must contain the following parameter: 'client_id'.",
            )  # fmt: skip
        if client_id != tenant.client_id:
            return aad_error(
                request, 400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.tenant_id}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You may have sent your authentication request to the wrong tenant.",
            )  # fmt: skip
        if not secret:
            return aad_error(
                request, 401, "invalid_client", 7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )  # fmt: skip
        if secret != tenant.client_secret:
            return aad_error(
                request, 401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'.",
            )  # fmt: skip
        scope = form.get("scope")
        if not scope:
            return aad_error(
                request, 400, "invalid_request", 900144,
                "The request body must contain the following parameter: 'scope'.",
            )  # fmt: skip
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].lower().endswith("/.default"):
            return aad_error(
                request, 400, "invalid_scope", 1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )  # fmt: skip
        if scopes[0].lower().rstrip("/") != GRAPH_DEFAULT_SCOPE.lower():
            resource = scopes[0][: -len("/.default")]
            return aad_error(
                request, 400, "invalid_resource", 500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant.tenant_id}.",
            )  # fmt: skip
        lifetime = int(state.config.token_lifetime_s)
        access_token = state.signer.mint(tenant.tenant_id, client_id, lifetime)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": access_token,
            },
            headers=NO_STORE,
        )

    return Starlette(
        routes=[
            Route("/common/discovery/instance", instance_discovery, methods=["GET"]),
            Route("/{tenant}/discovery/instance", instance_discovery, methods=["GET"]),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", keys, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
        ]
    )
