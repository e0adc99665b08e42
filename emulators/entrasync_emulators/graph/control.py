"""Control surface of the Graph emulator (tests and scenarios only): tenants, ops, state, stats."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from entrasync_emulators.graph.directory import TenantDirectory
from entrasync_emulators.graph.events import api_created_events
from entrasync_emulators.graph.pipeline import GraphPipeline
from entrasync_emulators.graph.seed import seed
from entrasync_emulators.graph.spec_ops import OpError, apply_op
from entrasync_emulators.graph.state import GraphState
from entrasync_emulators.graph.views import all_user_states, groups_state, user_state


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as error:
        raise OpError(400, f"body is not JSON: {error}") from error


def create_control_app(state: GraphState, pipeline: GraphPipeline) -> Starlette:
    """Paths relative to its mount point (`/graph` on the control server)."""

    def tenant_or_404(tenant_id: str) -> TenantDirectory:
        tenant = state.tenants.get(tenant_id)
        if tenant is None:
            raise OpError(404, f"unknown tenant {tenant_id!r}: PUT /graph/{tenant_id} first")
        return tenant

    async def put_tenant(request: Request) -> JSONResponse:
        tenant_id = request.path_params["tenant"]
        body = await _json(request)
        if not isinstance(body, dict):
            raise OpError(400, "PUT tenant: body must be a mapping")
        unknown = sorted(set(body) - {"domains", "client_id", "client_secret"})
        if unknown:
            raise OpError(400, f"PUT tenant: unknown key {unknown[0]!r}")
        for key in ("client_id", "client_secret"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise OpError(400, f"PUT tenant: missing required key {key!r}")
        domains = body.get("domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise OpError(400, "PUT tenant: 'domains' must be a list of text")
        state.reset_tenant(tenant_id, domains, body["client_id"], body["client_secret"])
        return JSONResponse({"tenant_id": tenant_id})

    async def post_seed(request: Request) -> JSONResponse:
        body = await _json(request)
        if not isinstance(body, dict):
            raise OpError(400, "seed: body must be a mapping")
        unknown = sorted(set(body) - {"users", "groups"})
        if unknown:
            raise OpError(400, f"seed: unknown key {unknown[0]!r}")
        with state.lock:
            tenant = tenant_or_404(request.path_params["tenant"])
            counts = seed(tenant, body.get("users", []), body.get("groups", []))
        return JSONResponse(counts)

    async def post_op(request: Request) -> JSONResponse:
        body = await _json(request)
        if not isinstance(body, dict) or "op" not in body:
            raise OpError(400, "ops: body must be {'op': ..., 'args': {...}}")
        with state.lock:
            tenant = tenant_or_404(request.path_params["tenant"])
            return JSONResponse(apply_op(tenant, body["op"], body.get("args")))

    async def get_user(request: Request) -> JSONResponse:
        with state.lock:
            tenant = tenant_or_404(request.path_params["tenant"])
            return JSONResponse(user_state(tenant, request.path_params["upn"]))

    async def get_users(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse(all_user_states(tenant_or_404(request.path_params["tenant"])))

    async def get_user_events(request: Request) -> JSONResponse:
        with state.lock:
            tenant = tenant_or_404(request.path_params["tenant"])
            user_id = tenant.find_user(request.path_params["upn"])
            if user_id is None:
                raise OpError(404, f"user {request.path_params['upn']!r} not found")
            return JSONResponse(api_created_events(tenant, user_id))

    async def get_groups(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse(groups_state(tenant_or_404(request.path_params["tenant"])))

    async def get_stats(request: Request) -> JSONResponse:
        return JSONResponse(state.stats.snapshot())

    async def reset_stats(request: Request) -> JSONResponse:
        state.stats.reset()
        with state.lock:
            pipeline.throttles.identity.reset()
        return JSONResponse(state.stats.snapshot())

    async def get_config(request: Request) -> JSONResponse:
        return JSONResponse(state.config.as_dict())

    async def post_config(request: Request) -> JSONResponse:
        body = await _json(request)
        if not isinstance(body, dict):
            raise OpError(400, "config: body must be a mapping")
        try:
            state.config.update(body)
        except ValueError as error:
            raise OpError(400, str(error)) from error
        with state.lock:
            pipeline.throttles.identity.reset()
        return JSONResponse(state.config.as_dict())

    async def op_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, OpError)
        return _error(error.status, error.message)

    return Starlette(
        routes=[
            Route("/stats", get_stats, methods=["GET"]),
            Route("/stats", reset_stats, methods=["DELETE"]),
            Route("/config", get_config, methods=["GET"]),
            Route("/config", post_config, methods=["POST"]),
            Route("/{tenant}", put_tenant, methods=["PUT"]),
            Route("/{tenant}/seed", post_seed, methods=["POST"]),
            Route("/{tenant}/ops", post_op, methods=["POST"]),
            Route("/{tenant}/users", get_users, methods=["GET"]),
            Route("/{tenant}/users/{upn}", get_user, methods=["GET"]),
            Route("/{tenant}/users/{upn}/events", get_user_events, methods=["GET"]),
            Route("/{tenant}/groups", get_groups, methods=["GET"]),
        ],
        exception_handlers={OpError: op_error},
    )
