"""What the emulator tests share: a running stack, its Graph control client, tokens, ASGI clients.

A test module takes the fixtures by importing them as themselves (`from emulator_fixtures import
stack as stack`): pytest finds fixtures among a module's names, and the `as` tells linters the
import is used.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from entrasync_emulators.stack import EmulatorStack

CLIENT_ID = "app-1"
SECRET = "s3cret"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def trusting(stack: EmulatorStack) -> ssl.SSLContext:
    """An SSL context that trusts the stack's own CA."""
    return ssl.create_default_context(cafile=stack.ca_file)


def verified_client(stack: EmulatorStack, **options: Any) -> httpx.Client:
    return httpx.Client(verify=trusting(stack), **options)


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatorStack]:
    with EmulatorStack() as running:
        yield running


@pytest.fixture(scope="module")
def control(stack: EmulatorStack) -> Iterator[httpx.Client]:
    """The Graph emulator's control surface."""
    with verified_client(stack, base_url=f"{stack.control_url}/graph") as client:
        yield client


def reset_tenant(
    control: httpx.Client, tenant: str, domain: str = "contoso.com", client_id: str = CLIENT_ID
) -> None:
    """Create `tenant` afresh (an empty directory) with one app registration."""
    control.put(
        f"/{tenant}",
        json={"domains": [domain], "client_id": client_id, "client_secret": SECRET},
    ).raise_for_status()


def ops_for(tenant: str) -> Callable[..., dict]:
    """`op(control, op_name, expect=200, **args)`: one control op on `tenant`, status checked."""

    def op(control: httpx.Client, op_name: str, expect: int = 200, **args: Any) -> dict:
        response = control.post(f"/{tenant}/ops", json={"op": op_name, "args": args})
        assert response.status_code == expect, response.text
        return response.json()

    return op


def token_form(**overrides: str) -> dict[str, str]:
    """A client-credentials token request for app-1 with Graph's scope, as msal sends it."""
    return {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": GRAPH_SCOPE,
        **overrides,
    }


def access_token(stack: EmulatorStack, tenant: str, client_id: str = CLIENT_ID) -> str:
    response = httpx.post(
        f"{stack.login_url}/{tenant}/oauth2/v2.0/token",
        data=token_form(client_id=client_id),
        verify=trusting(stack),
    )
    response.raise_for_status()
    return response.json()["access_token"]


def graph_client(stack: EmulatorStack, token: str) -> httpx.Client:
    """A client of the Graph emulator's API, signed in with `token`."""
    return verified_client(
        stack, base_url=stack.graph_url, headers={"Authorization": f"Bearer {token}"}
    )


class SyncASGITransport(httpx.BaseTransport):
    """httpx's ASGITransport is async-only: run each request on its own event loop."""

    def __init__(self, app: object) -> None:
        self.transport = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            request.stream = httpx.ByteStream(request.read())
            response = await self.transport.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run(send())


def asgi_client(app: object, base_url: str = "https://emply.test", **options: Any) -> httpx.Client:
    """A synchronous client of an in-process ASGI app (no server, no sockets)."""
    return httpx.Client(transport=SyncASGITransport(app), base_url=base_url, **options)
