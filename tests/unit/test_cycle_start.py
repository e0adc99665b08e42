"""A cycle where one tenant's run cannot be created: the others start, and the cycle says so."""

from __future__ import annotations

from types import SimpleNamespace
from uuid import uuid4

import httpx
from prefect.exceptions import PrefectHTTPStatusError

import flows.sync_all_tenants as cycle


def test_a_tenant_whose_run_cannot_be_created_does_not_stop_the_others(monkeypatch):
    created, calls = {}, []

    def run_deployment(name, parameters, **options):
        tenant = parameters["tenant"]
        calls.append(tenant)
        if tenant == "fabrikam":  # the server stays busy for this one
            request = httpx.Request("POST", "http://prefect/api/deployments/x/create_flow_run")
            response = httpx.Response(503, request=request)
            raise PrefectHTTPStatusError.from_httpx_error(
                httpx.HTTPStatusError("503 Service Unavailable", request=request,
                                      response=response))  # fmt: skip
        created[tenant] = SimpleNamespace(id=uuid4())
        return created[tenant]

    monkeypatch.setattr(cycle, "run_deployment", run_deployment)
    monkeypatch.setattr(cycle, "CREATE_RETRY_S", 0.0)
    tenants = {"contoso": False, "fabrikam": False, "northwind": False}
    started = cycle.start_tenant_runs.fn(tenants, "sync-all-tenants/now", None)

    assert calls.count("fabrikam") == cycle.CREATE_ATTEMPTS  # retried, then given up
    assert started["contoso"] == created["contoso"].id
    assert started["northwind"] == created["northwind"].id
    assert "503" in started["fabrikam"]

    results = cycle.wait_for_tenant_runs.fn({"fabrikam": started["fabrikam"]}, 0)
    ok, message = cycle.verdict(results, "sync-all-tenants")
    assert not ok and "fabrikam Not started: its run could not be created" in message
