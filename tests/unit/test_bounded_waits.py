"""No wait is unbounded: Retry-After caps (Graph, Emply, the login authority), the run deadline."""

from __future__ import annotations

import httpx
import pytest
from scripted_transport import Script

from entrasync.connectors.emply import EmplyClient, EmplyUnavailable
from entrasync.connectors.graph import GraphClient
from entrasync.connectors.graph.errors import GraphReadError
from entrasync.connectors.graph.token_http import AuthorityHttpClient, AuthorityUnavailable
from entrasync.run import deadline as deadline_module
from entrasync.run.deadline import RunDeadline, RunDeadlinePassed

GRAPH = "https://graph.microsoft.com/v1.0"
TOKEN_URL = "https://login.example/t1/oauth2/v2.0/token"


def graph(script: Script, sleeps: list[float], cap: float = 120) -> GraphClient:
    return GraphClient(
        tenant_id="t1", client_id="app", client_secret="s",
        http=httpx.Client(transport=httpx.MockTransport(script)),
        token_provider=lambda: "token", sleep=sleeps.append, retry_after_cap_s=cap,
    )  # fmt: skip


def emply(script: Script, sleeps: list[float], cap: float = 120) -> EmplyClient:
    return EmplyClient(
        customer="demo", api_key="k-1", http=httpx.Client(transport=httpx.MockTransport(script)),
        sleep=sleeps.append, retry_after_cap_s=cap,
    )  # fmt: skip


def throttled(seconds: str, status: int = 429) -> httpx.Response:
    return httpx.Response(status, headers={"Retry-After": seconds})


def test_graph_waits_a_retry_after_up_to_the_cap():
    script = Script(throttled("120"), httpx.Response(200, json={"value": []}))
    sleeps: list[float] = []
    assert list(graph(script, sleeps).iter_users()) == []
    assert sleeps == [120.0]


@pytest.mark.parametrize("status", [429, 503])
def test_graph_fails_a_read_at_once_when_retry_after_is_beyond_the_cap(status):
    script = Script(throttled("100000", status))
    sleeps: list[float] = []
    with pytest.raises(GraphReadError) as caught:
        list(graph(script, sleeps).iter_users())
    assert sleeps == [] and len(script.requests) == 1  # 28 hours never slept
    assert str(caught.value) == (
        f"Graph GET /users still failing after 1 attempts: HTTP {status} asking to wait "
        "100000 s (Retry-After), more than retry_after_cap_seconds 120"
    )


def test_graph_batch_item_beyond_the_cap_fails_the_batch():
    answer = {"responses": [{"id": "1", "status": 429, "headers": {"Retry-After": "900"}}]}
    script = Script(httpx.Response(200, json=answer))
    sleeps: list[float] = []
    with pytest.raises(GraphReadError, match="HTTP 429 in a \\$batch item asking to wait 900 s"):
        graph(script, sleeps, cap=60).batch([{"id": "1", "method": "GET", "url": "/users/a"}])
    assert sleeps == []


def test_emply_fails_at_once_when_retry_after_is_beyond_the_cap():
    script = Script(throttled("100000"))
    sleeps: list[float] = []
    with pytest.raises(EmplyUnavailable) as caught:
        emply(script, sleeps).read_users()
    assert sleeps == [] and len(script.requests) == 1
    assert "asked to wait 100000 s by Retry-After, more than retry_after_cap_seconds 120" in str(
        caught.value
    )
    assert "k-1" not in str(caught.value)


def test_emply_waits_a_retry_after_within_the_cap():
    rows = {"exportId": "users", "data": []}
    script = Script(throttled("30"), httpx.Response(200, json=rows))
    sleeps: list[float] = []
    assert emply(script, sleeps, cap=30).read_export("users") == []
    assert sleeps == [30.0]


def authority(script: Script, sleeps: list[float], **options) -> AuthorityHttpClient:
    return AuthorityHttpClient(
        ca_bundle=None, timeout_s=1, retry_after_cap_s=options.pop("cap", 120),
        sleep=sleeps.append, http=httpx.Client(transport=httpx.MockTransport(script)), **options,
    )  # fmt: skip


def test_token_requests_are_retried_through_5xx_429_and_timeouts():
    token = httpx.Response(200, json={"access_token": "at", "token_type": "Bearer"})
    script = Script(httpx.Response(503), throttled("2"), httpx.ReadTimeout("slow authority"), token)
    sleeps: list[float] = []
    client = authority(script, sleeps)
    answer = client.post(TOKEN_URL, data={"grant_type": "client_credentials", "scope": "s"})
    assert answer.status_code == 200 and client.attempts == 4
    assert sleeps[1] == 2.0 and len(sleeps) == 3
    assert script.requests[0].content == b"grant_type=client_credentials&scope=s"


def test_token_requests_run_out_into_one_line():
    script = Script(*[httpx.Response(500) for _ in range(4)])
    sleeps: list[float] = []
    with pytest.raises(AuthorityUnavailable) as caught:
        authority(script, sleeps).post(TOKEN_URL, data={"client_secret": "never-shown"})
    assert str(caught.value) == f"POST {TOKEN_URL} still failing after 4 attempts: HTTP 500"
    assert len(sleeps) == 3


def test_token_request_retry_after_beyond_the_cap_fails_at_once():
    script = Script(throttled("3600"))
    sleeps: list[float] = []
    with pytest.raises(AuthorityUnavailable, match="asking to wait 3600 s"):
        authority(script, sleeps, cap=60).post(TOKEN_URL, data={})
    assert sleeps == []


def test_4xx_from_the_authority_goes_to_msal_unretried():
    script = Script(httpx.Response(401, json={"error": "invalid_client"}))
    assert authority(script, []).post(TOKEN_URL, data={}).status_code == 401


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_deadline_stops_at_a_safe_point_and_refuses_a_wait_past_it(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(deadline_module, "clock", clock)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr(deadline_module.time, "sleep", sleep)
    run = RunDeadline.starting_now(25)
    run.check("planning")  # well before: nothing happens
    run.sleep(60)
    assert slept == [60]
    with pytest.raises(RunDeadlinePassed) as caught:
        run.sleep(25 * 60)
    assert str(caught.value) == (
        "the run passed its deadline of 25 minutes (run_deadline_minutes) while waiting 1500 s "
        "to retry a request; rerun the tenant: what was applied is not applied again"
    )
    clock.now += 24 * 60
    with pytest.raises(
        RunDeadlinePassed, match="minutes \\(run_deadline_minutes\\) before planning;"
    ):
        run.check("planning")
    assert not RunDeadline.unbounded().passed()
