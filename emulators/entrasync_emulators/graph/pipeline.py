"""Runs Graph requests: faults, routing, throttling, latency, the handler, headers, counters."""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import dataclass

from entrasync_emulators.graph.directory import DirectoryError
from entrasync_emulators.graph.faults import fault_response, take_fault
from entrasync_emulators.graph.messages import (
    GraphError,
    GraphRequest,
    GraphResponse,
    error_response,
    throttled_response,
)
from entrasync_emulators.graph.router import Route, router
from entrasync_emulators.graph.state import GraphState
from entrasync_emulators.graph.throttling import Admission, Refusal, Throttles

log = logging.getLogger(__name__)

DIRECTORY_ERROR_CODES = {400: "Request_BadRequest", 404: "Request_ResourceNotFound"}


@dataclass
class _Plan:
    """One request between admission and execution."""

    request: GraphRequest
    route: Route | None = None
    admission: Admission | None = None
    early: GraphResponse | None = None  # answered before the handler runs (fault, 429, 4xx)


class GraphPipeline:
    """Executes requests against the shared state; a wave's requests count as concurrent."""

    def __init__(self, state: GraphState) -> None:
        self.state = state
        self.throttles = Throttles(state.config)

    async def run_wave(self, requests: list[GraphRequest]) -> list[GraphResponse]:
        """Admit every request, wait the configured latency once, then execute them."""
        if not requests:
            return []
        with self.state.lock:
            plans = [self._admit(request) for request in requests]
        latency_ms = self.state.config.latency_ms
        if latency_ms > 0:
            await asyncio.sleep(latency_ms / 1000)
        with self.state.lock:
            return [self._finish(plan) for plan in plans]

    def _error(self, request: GraphRequest, error: GraphError) -> GraphResponse:
        return error_response(
            request.request_id,
            request.client_request_id,
            error.status,
            error.code,
            error.message,
            error.headers,
        )

    def _admit(self, request: GraphRequest) -> _Plan:
        plan = _Plan(request)
        fault = take_fault(request.tenant, request.path)
        if fault is not None:
            self.state.stats.record_fault()
            plan.early = fault_response(request.request_id, request.client_request_id, fault)
            return plan
        try:
            plan.route, request.path_params = router.resolve(request.method, request.path)
        except GraphError as error:
            plan.early = self._error(request, error)
            return plan
        request.route = plan.route.name
        decision = self.throttles.admit(request)
        if isinstance(decision, Refusal):
            plan.early = throttled_response(
                request.request_id,
                request.client_request_id,
                decision.retry_after,
                decision.headers,
                decision.code,
                decision.message,
            )
        else:
            plan.admission = decision
        return plan

    def _finish(self, plan: _Plan) -> GraphResponse:
        request = plan.request
        response = plan.early or self._execute(request, plan.route)
        resource_units = 0
        if plan.admission is not None:
            self.throttles.release(plan.admission)
            resource_units = plan.admission.resource_units
            if resource_units:
                response.headers.setdefault("x-ms-resource-unit", str(resource_units))
        self.state.stats.record(request.route or "unmatched", response.status, resource_units)
        return response

    def _execute(self, request: GraphRequest, route: Route | None) -> GraphResponse:
        assert route is not None
        try:
            return route.handler(request)
        except GraphError as error:
            return self._error(request, error)
        except DirectoryError as error:
            code = DIRECTORY_ERROR_CODES.get(error.status, "BadRequest")
            return self._error(request, GraphError(error.status, code, error.message))
        except Exception:  # an emulator bug must still answer like Graph, and be visible
            log.error("Graph emulator handler failed:\n%s", traceback.format_exc())
            return self._error(
                request,
                GraphError(500, "InternalServerError", "Encountered an internal server error."),
            )
