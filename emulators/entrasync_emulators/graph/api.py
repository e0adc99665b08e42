"""The Graph v1.0 HTTP app: bearer-token check, then the pipeline (or $batch) per request."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from entrasync_emulators.graph import (  # noqa: F401  (modules register their routes)
    calendars_api,
    delta_api,
    directory_api,
    photos_api,
    writes_api,
)
from entrasync_emulators.graph.batch import run_batch
from entrasync_emulators.graph.messages import GraphRequest, GraphResponse, error_response
from entrasync_emulators.graph.pipeline import GraphPipeline
from entrasync_emulators.graph.state import GraphState
from entrasync_emulators.graph.tokens import InvalidToken

AUTHENTICATE = (
    'Bearer realm="", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


def _diagnostic() -> str:
    return json.dumps({"ServerInfo": {"DataCenter": "Emulator", "Slice": "E", "Ring": "0"}})


def to_http(response: GraphResponse, request_id: str, client_request_id: str) -> Response:
    content, media_type = response.encoded()
    headers = {
        "request-id": request_id,
        "client-request-id": client_request_id,
        "x-ms-ags-diagnostic": _diagnostic(),
        "Cache-Control": "no-cache",
        "Strict-Transport-Security": "max-age=31536000",
    }
    if media_type and media_type.startswith("application/json"):
        headers["OData-Version"] = "4.0"
    headers.update(response.headers)
    return Response(content, status_code=response.status, headers=headers, media_type=media_type)


def create_graph_app(state: GraphState, pipeline: GraphPipeline) -> Starlette:
    """Serves /v1.0/...; the token's tenant picks the directory every request works on."""

    def unauthorized(request_id: str, client_request_id: str, message: str) -> Response:
        state.stats.record("unauthenticated", 401)
        response = error_response(
            request_id,
            client_request_id,
            401,
            "InvalidAuthenticationToken",
            message,
            {"WWW-Authenticate": AUTHENTICATE},
        )
        return to_http(response, request_id, client_request_id)

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or request_id
        authorization = request.headers.get("authorization", "")
        if not authorization.strip():
            return unauthorized(request_id, client_request_id, "Access token is empty.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return unauthorized(request_id, client_request_id, "Access token validation failure.")
        try:
            claims = state.signer.read(token.strip())
        except InvalidToken as error:
            return unauthorized(request_id, client_request_id, str(error))
        tenant = state.tenants.get(claims.tenant_id)
        if tenant is None:
            return unauthorized(
                request_id, client_request_id, "Access token validation failure. Invalid tenant."
            )
        path = "/" + request.path_params["path"].strip("/")
        graph_request = GraphRequest(
            method=request.method,
            path=path,
            query=parse_qsl(request.url.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.body(),
            base_url=str(request.base_url).rstrip("/") + "/v1.0",
            tenant=tenant,
            app_id=claims.app_id,
            request_id=request_id,
            client_request_id=client_request_id,
            config=state.config,
        )
        if path.lower() == "/$batch" and request.method == "POST":
            response = await run_batch(pipeline, graph_request)
        else:
            (response,) = await pipeline.run_wave([graph_request])
        return to_http(response, request_id, client_request_id)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(routes=[Route("/v1.0/{path:path}", endpoint, methods=methods)])
