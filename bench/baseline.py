"""The straightforward extraction (#4): sequential httpx paging into Python lists, then pandas."""

from __future__ import annotations

import time
from typing import Any

import duckdb
import httpx
import pandas as pd

from entrasync.connectors.graph.auth import MsalTokenSource
from entrasync.connectors.graph.models import (
    DELETED_USER_SELECT,
    GROUP_SELECT,
    MEMBER_SELECT,
    USER_SELECT,
)
from entrasync.connectors.http import tls_context
from entrasync.endpoints import Endpoints
from entrasync.settings import TenantSettings, load_tenant


def _all_pages(http: httpx.Client, url: str, select: tuple[str, ...]) -> tuple[list[dict], int]:
    """Every item of a collection, following nextLinks; waits out a 429 like any client would."""
    items: list[dict] = []
    requests = 0
    next_url: str | None = url
    params: dict[str, Any] | None = {"$select": ",".join(select), "$top": 999}
    while next_url:
        response = http.get(next_url, params=params)
        requests += 1
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        response.raise_for_status()
        body = response.json()
        items.extend(body["value"])
        next_url, params = body.get("@odata.nextLink"), None
    return items, requests


def bench_token(settings: TenantSettings, endpoints: Endpoints) -> str:
    """An app-only token from the login emulator, fetched before any clock starts."""
    return MsalTokenSource(
        tenant_id=settings.tenant_id, client_id=settings.client_id,
        client_secret=settings.credential.resolve(), authority_host=endpoints.authority_host,
        ca_bundle=endpoints.ca_bundle, timeout_s=60,
    )()  # fmt: skip


def connected(settings: TenantSettings, groups: list[dict]) -> list[dict]:
    """The groups the tenant settings connect, by display name."""
    names = {mapping.group.strip().lower() for mapping in settings.groups}
    return [g for g in groups if (g.get("displayName") or "").strip().lower() in names]


def frames_into_duckdb(
    started: float, users: list[dict], groups: list[dict], members: list[dict], deleted: list[dict]
) -> dict[str, Any]:
    """The shared tail: rows read into pandas frames, then tables of an in-memory DuckDB."""
    read_s = time.perf_counter() - started
    frames = {
        "entra_users": pd.DataFrame(users, columns=list(USER_SELECT)),
        "entra_groups": pd.DataFrame(groups, columns=list(GROUP_SELECT)),
        "entra_group_members": pd.DataFrame(members, columns=["group_id", "@odata.type", "id"]),
        "entra_deleted_users": pd.DataFrame(deleted, columns=list(DELETED_USER_SELECT)),
    }
    frames_s = time.perf_counter() - started
    with duckdb.connect() as con:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    return {
        "wall_s": time.perf_counter() - started, "read_s": read_s, "frames_s": frames_s,
        "rows": {name: len(frame) for name, frame in frames.items()},
    }  # fmt: skip


def straightforward_extract(tenant: str, tenants_file: str) -> dict[str, Any]:
    """Users, groups, connected groups' members and deleted users, one request at a time."""
    settings = load_tenant(tenants_file, tenant)
    endpoints = Endpoints.from_env()
    graph = endpoints.graph_url.rstrip("/")
    headers = {"Authorization": f"Bearer {bench_token(settings, endpoints)}"}
    with httpx.Client(verify=tls_context(endpoints.ca_bundle), headers=headers, timeout=60) as http:
        started = time.perf_counter()
        users, n_users = _all_pages(http, f"{graph}/users", USER_SELECT)
        groups, n_groups = _all_pages(http, f"{graph}/groups", GROUP_SELECT)
        members: list[dict] = []
        n_members = 0
        for group in connected(settings, groups):
            items, requests = _all_pages(
                http, f"{graph}/groups/{group['id']}/members", MEMBER_SELECT
            )
            n_members += requests
            members += [{"group_id": group["id"], **item} for item in items]
        deleted, n_deleted = _all_pages(
            http, f"{graph}/directory/deletedItems/microsoft.graph.user", DELETED_USER_SELECT
        )
        figures = frames_into_duckdb(started, users, groups, members, deleted)
    return {**figures, "requests": n_users + n_groups + n_members + n_deleted}
