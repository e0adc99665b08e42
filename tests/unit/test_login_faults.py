"""Token requests against a failing login authority: retried, bounded, one line when they give up.

The login emulator's faults come through the control surface (`/login/{tenant}/faults`); the
token source under test is the pipeline's own (msal with our httpx client).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from entrasync.connectors.graph.auth import MsalTokenSource
from entrasync.connectors.graph.errors import GraphAuthError
from entrasync.emulator_client import ControlSurface, EmulatorProcess

CLIENT_ID = "app-1"
SECRET = "s3cret"


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as running:
        yield running


@pytest.fixture(scope="module")
def login_control(stack) -> Iterator[ControlSurface]:
    with stack.control() as control:
        yield control


@pytest.fixture
def tenant(login_control, request) -> str:
    name = f"login-faults-{request.node.name[-40:]}".replace("[", "-").replace("]", "")
    login_control.reset_graph(name, ["contoso.com"], CLIENT_ID, SECRET)
    login_control.reset_login()
    return name


def token_source(stack, tenant: str, sleeps: list[float], **options) -> MsalTokenSource:
    return MsalTokenSource(
        tenant_id=tenant, client_id=CLIENT_ID, client_secret=SECRET,
        authority_host=stack.login_url, ca_bundle=stack.ca_file,
        timeout_s=options.pop("timeout_s", 10), sleep=sleeps.append, **options,
    )  # fmt: skip


def fault(login_control: ControlSurface, tenant: str, **body) -> None:
    login_control.login_fault(tenant, **body)


def token_requests(login_control: ControlSurface, tenant: str) -> int:
    return login_control.login_token_requests(tenant)


def test_5xx_from_the_authority_is_retried_until_a_token_comes(stack, login_control, tenant):
    fault(login_control, tenant, status=503, times=2)
    sleeps: list[float] = []
    assert token_source(stack, tenant, sleeps)()  # a token
    assert token_requests(login_control, tenant) == 3 and len(sleeps) == 2


def test_429_is_waited_out_for_its_retry_after(stack, login_control, tenant):
    fault(login_control, tenant, status=429, times=1, retry_after=7)
    sleeps: list[float] = []
    assert token_source(stack, tenant, sleeps)()
    assert sleeps == [7.0] and token_requests(login_control, tenant) == 2


def test_a_slow_authority_times_out_and_is_asked_again(stack, login_control, tenant):
    fault(login_control, tenant, status=None, times=1, delay_ms=3000)
    sleeps: list[float] = []
    source = token_source(stack, tenant, sleeps, timeout_s=0.5)
    assert source()
    assert source.http_client.attempts >= 2 and len(sleeps) == 1


def test_an_authority_that_keeps_failing_is_one_line_and_no_secret(stack, login_control, tenant):
    fault(login_control, tenant, status=500, times=10)
    sleeps: list[float] = []
    with pytest.raises(GraphAuthError) as caught:
        token_source(stack, tenant, sleeps)()
    message = str(caught.value)
    assert message == (
        f"Graph token from {stack.login_url}/{tenant} refused: token_request_failed: POST "
        f"{stack.login_url}/{tenant}/oauth2/v2.0/token still failing after 4 attempts: HTTP 500"
    )
    assert SECRET not in message and len(sleeps) == 3
    assert token_requests(login_control, tenant) == 4


def test_a_retry_after_beyond_the_cap_fails_at_once(stack, login_control, tenant):
    fault(login_control, tenant, status=429, times=1, retry_after=3600)
    sleeps: list[float] = []
    with pytest.raises(GraphAuthError, match="asking to wait 3600 s \\(Retry-After\\), more than "
                                             "retry_after_cap_seconds 120"):  # fmt: skip
        token_source(stack, tenant, sleeps, retry_after_cap_s=120)()
    assert sleeps == [] and token_requests(login_control, tenant) == 1
