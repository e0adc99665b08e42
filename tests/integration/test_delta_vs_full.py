"""Delta reads give the tables, and so the plan, that a full read of the same directory gives."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from entrasync.connectors.emply.client import EmplyClient
from entrasync.connectors.graph.client import GraphClient
from entrasync.connectors.graph.errors import GraphError
from entrasync.emulator_client import StackTenant
from entrasync.extract.emply import extract_emply
from entrasync.extract.entra import extract_entra
from entrasync.settings import parse_tenant
from entrasync.warehouse import delta_state
from entrasync.warehouse.db import connect
from entrasync_emulators.churn import Churn
from entrasync_emulators.generate import TenantShape, generate
from rules.runner import plan

DIRECTORY_TABLES = ("entra_users", "entra_groups", "entra_group_members", "entra_deleted_users")
SHAPE = TenantShape(users=300, groups=24, memberships=1_200, seed=5, connected_groups=4)


def _settings(generated: dict, target: StackTenant, transitive: bool):
    return parse_tenant(
        {
            "name": target.customer, "tenant_id": target.tenant_id,
            "client_id": target.client_id, "credential": {"env": "UNUSED_SECRET"},
            "domains": list(target.domains), "groups": generated["groups"],
            "transitive_groups": transitive, "max_deactivations": 10_000,
            "emply": {"customer": target.customer, "api_key": {"env": "UNUSED_KEY"}},
        },
        "test", "tenants[0]",
    )  # fmt: skip


@pytest.fixture
def tenant(stack, request):
    transitive = request.param
    target = StackTenant(
        tenant_id=f"delta-vs-full-{transitive}".lower(), customer=f"dvf{int(transitive)}",
        client_id="dvf-app", client_secret="dvf-secret", api_key="dvf-key",
    )  # fmt: skip
    generated = generate(SHAPE)
    with stack.control() as control:
        control.load_tenant(target, generated)
    return generated, target, _settings(generated, target, transitive)


@pytest.fixture
def clients(stack, tenant):
    _, target, _ = tenant
    graph = GraphClient(
        tenant_id=target.tenant_id, client_id=target.client_id,
        client_secret=target.client_secret, authority_host=stack.login_url,
        graph_url=stack.graph_url, ca_bundle=stack.ca_file,
    )  # fmt: skip
    emply = EmplyClient(
        base_url=stack.emply_url, customer=target.customer, api_key=target.api_key,
        ca_bundle=stack.ca_file,
    )  # fmt: skip
    with graph, emply:
        yield graph, emply


def _ops(stack, tenant_id: str, ops: list[dict]) -> None:
    with stack.control() as control:
        for op in ops:
            control.graph_op(tenant_id, op["op"], op["args"])


def _rows(con, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def _plan(con, emply: EmplyClient, settings) -> list[tuple]:
    extract_emply(con, emply, settings)
    plan(con, "run-under-test", settings, True)
    return con.execute(
        "SELECT change_id, kind, rule_id, emply_user_id, entra_object_id, subject,"
        " before::VARCHAR, after::VARCHAR, reason FROM planned_changes ORDER BY change_id"
    ).fetchall()


def _read_mode(caplog) -> str:
    modes = [r.getMessage() for r in caplog.records if r.name == "entrasync.extract.entra"]
    caplog.clear()
    return "delta" if modes and modes[-1].startswith("Entra delta read") else "full"


def _full_copy(path: Path, copy: Path):
    """A copy of the warehouse whose next Entra read is a full one."""
    shutil.copy(path, copy)
    con = connect("copy", copy)
    delta_state.forget_links(con)
    return con


def _group_ops(round_: int, generated: dict, deleted: set[str]) -> list[dict]:
    """Group changes: nested teams, a deleted team, a connected group deleted and recreated
    (with 40 users the churn has not deleted)."""
    connected = [mapping["group"] for mapping in generated["groups"]]
    teams = [g["name"] for g in generated["entra"]["groups"] if g["name"] not in connected]
    users = [u["upn"] for u in generated["entra"]["users"] if u["upn"] not in deleted]
    if round_ == 0:
        return [
            {"op": "add_group", "args": {"name": "Team Fresh"}},
            {"op": "add_member", "args": {"group": "Team Fresh", "user": teams[3]}},
            {"op": "add_member", "args": {"group": "Team Fresh", "user": users[-1]}},
            {"op": "add_member", "args": {"group": connected[1], "user": "Team Fresh"}},
        ]
    if round_ == 1:
        return [{"op": "delete_group", "args": {"name": "Team Fresh"}}]
    if round_ == 3:
        return []
    return [
        {"op": "delete_group", "args": {"name": connected[2]}},
        {"op": "add_group", "args": {"name": connected[2]}},
        *({"op": "add_member", "args": {"group": connected[2], "user": upn}} for upn in users[:40]),
    ]


@pytest.mark.parametrize("tenant", [False, True], ids=["direct", "transitive"], indirect=True)
def test_delta_cycles_plan_what_full_reads_plan(stack, tenant, clients, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="entrasync.extract.entra")
    generated, target, settings = tenant
    graph, emply = clients
    path = tmp_path / "delta.duckdb"
    con = connect("delta", path)
    extract_entra(con, graph, settings)
    assert _read_mode(caplog) == "full"
    first = _plan(con, emply, settings)
    kinds = [row[1] for row in first]
    if not settings.transitive_groups:
        expected = generated["expected"]
        assert {k: kinds.count(k) for k in expected} == expected
    churn = Churn(generated, seed=11)
    deleted: set[str] = set()
    for round_ in range(4):
        if round_ < 3:
            ops = churn.user_ops(20) + churn.membership_ops(20)
        else:  # users only: the groups must still drop their deleted members
            ops = [op for op in churn.user_ops(15) if op["op"] != "add_member"]
            ops = [op for op in ops if op["op"] != "add_user"]
        _ops(stack, target.tenant_id, ops)
        deleted |= {op["args"]["upn"] for op in ops if op["op"] == "delete_user"}
        _ops(stack, target.tenant_id, _group_ops(round_, generated, deleted))
        con.close()
        full = _full_copy(path, tmp_path / f"full{round_}.duckdb")
        con = connect("delta", path)
        extract_entra(con, graph, settings)
        assert _read_mode(caplog) == "delta"
        extract_entra(full, graph, settings)
        assert _read_mode(caplog) == "full"
        for table in DIRECTORY_TABLES:
            assert _rows(con, table) == _rows(full, table), f"round {round_}: {table} differs"
        assert _plan(con, emply, settings) == _plan(full, emply, settings)
        full.close()
    con.close()


@pytest.mark.parametrize("tenant", [False], ids=["direct"], indirect=True)
def test_expired_token_failed_read_and_settings_change(stack, tenant, clients, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="entrasync.extract.entra")
    generated, target, settings = tenant
    graph, _ = clients
    con = connect("delta", tmp_path / "delta.duckdb")
    graph.count_users()  # the token first; then count what the read costs
    with stack.control() as control:
        control.graph_stats(reset=True)
        extract_entra(con, graph, settings)
        charged = control.graph_stats()["resource_units"]
    assert graph.pacer.units_taken == charged  # the pacer spends what Graph charges
    _read_mode(caplog)
    _ops(stack, target.tenant_id, [{"op": "expire_delta_tokens", "args": {}}])
    _ops(stack, target.tenant_id, Churn(generated).user_ops(5))
    extract_entra(con, graph, settings)  # 410 syncStateNotFound: a full read instead
    assert _read_mode(caplog) == "full"
    before = {table: _rows(con, table) for table in DIRECTORY_TABLES}
    links = con.execute("SELECT * FROM entra_delta_links ORDER BY collection").fetchall()
    _ops(
        stack,
        target.tenant_id,
        [{"op": "fault", "args": {"path": "/groups/delta", "status": 403, "times": 1}}],
    )
    with pytest.raises(GraphError):  # a failed read raises and changes nothing
        extract_entra(con, graph, settings)
    assert {table: _rows(con, table) for table in DIRECTORY_TABLES} == before
    assert con.execute("SELECT * FROM entra_delta_links ORDER BY collection").fetchall() == links
    transitive = _settings(generated, target, transitive=True)
    extract_entra(con, graph, transitive)  # another connected-groups setting: a full read
    assert _read_mode(caplog) == "full"
    extract_entra(con, graph, transitive)
    assert _read_mode(caplog) == "delta"
    con.close()
