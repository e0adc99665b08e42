"""The SDK way (#4): Microsoft's msgraph-sdk and its PageIterator, then the baseline's tail.

Needs the `bench` dependency group (`uv run --group bench`); only the benchmark installs it.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.directory.deleted_items.graph_user.graph_user_request_builder import (
    GraphUserRequestBuilder,
)
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.models.directory_object_collection_response import (
    DirectoryObjectCollectionResponse,
)
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph.graph_request_adapter import options as sdk_default_options
from msgraph_core import GraphClientFactory
from msgraph_core.tasks.page_iterator import PageIterator

from bench.baseline import bench_token, connected, frames_into_duckdb
from entrasync.connectors.graph.models import (
    DELETED_USER_SELECT,
    GROUP_SELECT,
    MEMBER_SELECT,
    USER_SELECT,
)
from entrasync.connectors.http import tls_context
from entrasync.endpoints import Endpoints
from entrasync.settings import TenantSettings, load_tenant

PAGE = 999
UsersQuery = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters
GroupsQuery = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters
MembersQuery = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters
DeletedUsersQuery = GraphUserRequestBuilder.GraphUserRequestBuilderGetQueryParameters


class _StaticToken(AccessTokenProvider):
    """The token fetched up front, for the emulator's host only."""

    def __init__(self, token: str, host: str) -> None:
        self._token, self._hosts = token, AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context=None):
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class _CountingTransport(httpx.AsyncBaseTransport):
    """Under the SDK's middleware, so its retries count as the requests they are."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.requests = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _row(item: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A Graph JSON-shaped row (camelCase keys) from an SDK model object."""
    return {f: getattr(item, re.sub(r"(?<!^)([A-Z])", r"_\1", f).lower()) for f in fields}


async def _walk(first: Any, adapter: GraphRequestAdapter, fields: tuple[str, ...]) -> list[dict]:
    """Every item of a collection: the first page, then its nextLinks one at a time."""
    rows: list[dict] = []
    if first is None or not first.value:
        return rows

    def keep(item: Any) -> bool:
        rows.append(_row(item, fields))
        return True

    await PageIterator(first, adapter).iterate(keep)
    return rows


def _query(parameters: type, fields: tuple[str, ...]) -> RequestConfiguration:
    """$select of the baseline's fields and $top=999, in a builder's own query parameter class."""
    return RequestConfiguration(query_parameters=parameters(select=list(fields), top=PAGE))


async def _members(client: GraphServiceClient, adapter: Any, groups: list[dict]) -> list[dict]:
    """The members of each group, one group after the other."""
    members: list[dict] = []
    for group in groups:
        builder = client.groups.by_group_id(group["id"]).members
        page = await builder.get(_query(MembersQuery, MEMBER_SELECT))
        for item in await _walk(page, adapter, ("odataType", "id")):
            members.append(
                {"group_id": group["id"], "@odata.type": item["odataType"], "id": item["id"]}
            )
    return members


async def _deleted(client: GraphServiceClient, adapter: Any) -> list[dict]:
    """Deleted users, through the SDK's own builder (it sends the cast as `graph.user`)."""
    page = await client.directory.deleted_items.graph_user.get(
        _query(DeletedUsersQuery, DELETED_USER_SELECT)
    )
    return await _walk(page, adapter, DELETED_USER_SELECT)


async def _read(client: GraphServiceClient, adapter: Any, settings: TenantSettings) -> tuple:
    page = await client.users.get(_query(UsersQuery, USER_SELECT))
    users = await _walk(page, adapter, USER_SELECT)
    page = await client.groups.get(_query(GroupsQuery, GROUP_SELECT))
    groups = await _walk(page, adapter, GROUP_SELECT)
    members = await _members(client, adapter, connected(settings, groups))
    return users, groups, members, await _deleted(client, adapter)


def _client(token: str, endpoints: Endpoints, transport: _CountingTransport) -> tuple:
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=transport, timeout=60), options=sdk_default_options
    )
    auth = BaseBearerTokenAuthenticationProvider(
        _StaticToken(token, urlsplit(endpoints.graph_url).hostname or "")
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = endpoints.graph_url.rstrip("/")  # already ends in /v1.0
    return http, adapter, GraphServiceClient(request_adapter=adapter)


async def _extract(token: str, endpoints: Endpoints, settings: TenantSettings) -> dict[str, Any]:
    verify = tls_context(endpoints.ca_bundle)
    transport = _CountingTransport(httpx.AsyncHTTPTransport(verify=verify))
    http, adapter, client = _client(token, endpoints, transport)
    async with http:
        started = time.perf_counter()
        users, groups, members, deleted = await _read(client, adapter, settings)
        figures = frames_into_duckdb(started, users, groups, members, deleted)
    return {**figures, "requests": transport.requests}


def _warm_up_models() -> None:
    """The SDK's lazy imports (a model's first deserialization imports ~1,200 modules), paid
    before the clock, as the worker pays ours and the baseline's before theirs."""
    page = b'{"value": [{"@odata.type": "#microsoft.graph.user", "id": "warm-up"}]}'
    node = JsonParseNodeFactory().get_root_parse_node("application/json", page)
    node.get_object_value(DirectoryObjectCollectionResponse)


def sdk_extract(tenant: str, tenants_file: str) -> dict[str, Any]:
    """Users, groups, connected groups' members and deleted users through msgraph-sdk."""
    settings = load_tenant(tenants_file, tenant)
    endpoints = Endpoints.from_env()
    _warm_up_models()
    return asyncio.run(_extract(bench_token(settings, endpoints), endpoints, settings))
