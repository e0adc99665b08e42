"""The ops library without Prefect: which tenants to rerun, the run table, the cycle verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from entrasync.errors import SettingsError
from entrasync.ops.cycle import TenantRunResult, result_rows, tenants_to_start, unstartable, verdict
from entrasync.ops.failed_tenants import tenants_to_rerun
from entrasync.ops.names import (
    tenant_artifact_key,
    tenant_run_name,
    tenant_slot_name,
    tenant_tag,
)
from entrasync.ops.run_report import change_table, outcome_markdown
from entrasync.settings import CredentialRef, EmplySettings, TenantSettings
from entrasync.tenants_file import InvalidEntry, read_tenants_file
from entrasync.warehouse.db import connect, connect_memory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def tenant(name: str, enabled: bool = True) -> TenantSettings:
    return TenantSettings(
        name=name, tenant_id=f"t-{name}", client_id="app", credential=CredentialRef(env="S"),
        domains=("contoso.com",), groups=(), enabled=enabled,
        emply=EmplySettings(customer=name, api_key=CredentialRef(env="K")),
    )  # fmt: skip


def runs(name: str, *history: tuple[str, timedelta]) -> None:
    """The tenant's warehouse with runs (status, how long before NOW it started), in order."""
    with connect(name) as con:
        for index, (status, ago) in enumerate(history):
            con.execute(
                "INSERT INTO runs (run_id, tenant, started_at, status, dry_run,"
                " allow_deactivations, error) VALUES (?, ?, ?, ?, false, false, ?)",
                [f"{name}-{index}", name, NOW - ago, status, f"{status} because"],
            )


@pytest.fixture
def warehouses(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(tmp_path))
    minutes = timedelta(minutes=1)
    runs("failed-now", ("completed", 90 * minutes), ("failed", 30 * minutes))
    runs("blocked", ("blocked", 30 * minutes))
    runs("fixed", ("failed", 60 * minutes), ("completed", 30 * minutes))
    runs("failed-long-ago", ("failed", 30 * 60 * minutes))
    runs("killed", ("running", 120 * minutes))
    runs("running-now", ("running", 5 * minutes))
    runs("disabled", ("failed", 30 * minutes))
    names = ["failed-now", "blocked", "fixed", "failed-long-ago", "killed", "running-now", "never"]
    return [tenant(name) for name in names] + [tenant("disabled", enabled=False)]


def test_reruns_latest_failed_blocked_or_crashed_in_the_window(warehouses):
    found = {t.tenant: t for t in tenants_to_rerun(warehouses, hours=24, now=NOW)}
    assert {name: t.status for name, t in found.items()} == {
        "failed-now": "failed", "blocked": "blocked", "killed": "crashed"}  # fmt: skip
    assert not any(t.allow_deactivations for t in found.values())
    assert found["failed-now"].run_id == "failed-now-1"


def test_deactivations_allowed_only_for_blocked_tenants_and_only_when_asked(warehouses):
    found = tenants_to_rerun(warehouses, hours=24, allow_deactivations=True, now=NOW)
    assert {t.tenant for t in found if t.allow_deactivations} == {"blocked"}


def test_window_and_tenant_filter(warehouses):
    assert tenants_to_rerun(warehouses, hours=0.25, now=NOW) == []
    only = tenants_to_rerun(warehouses, hours=24, only=["blocked"], now=NOW)
    assert [t.tenant for t in only] == ["blocked"]


def test_every_prefect_name_of_a_tenant_is_the_name_itself():
    assert tenant_artifact_key("nordic-eu") == "sync-nordic-eu"
    assert tenant_slot_name("nordic-eu") == "sync-tenant:nordic-eu"
    assert tenant_run_name("nordic-eu") == "sync-nordic-eu"
    assert tenant_tag("nordic-eu") == "tenant:nordic-eu"


@pytest.mark.parametrize("name", ["Nordic_EU", "nordic eu", "a/b", "../x", "-a", "a" * 64, ""])
@pytest.mark.parametrize(
    "make", [tenant_artifact_key, tenant_slot_name, tenant_run_name, tenant_tag]
)
def test_a_name_that_is_not_a_dns_label_gets_no_prefect_name(name, make):
    # Before: Nordic_EU, nordic-eu and "nordic eu" shared one artifact key, a/b and a-b one slot.
    with pytest.raises(SettingsError, match="not a valid tenant name"):
        make(name)


def test_change_table_counts_outcomes_per_kind_findings_last():
    table = change_table({
        "set_roles": {"applied": 3, "failed": 1},
        "finding": {"recorded": 2},
        "create_user": {"skipped": 5},
    })  # fmt: skip
    assert [row["kind"] for row in table] == ["create_user", "set_roles", "finding", "total"]
    assert table[1] == {"kind": "set_roles", "planned": 4, "applied": 3, "failed": 1, "skipped": 0}
    assert table[-1] == {"kind": "total", "planned": 9, "applied": 3, "failed": 1, "skipped": 5}


def test_outcome_words_for_a_blocked_run_name_the_deactivations():
    con = connect_memory()
    con.execute(
        "INSERT INTO changes (run_id, change_id, kind, rule_id, subject, reason, outcome, error,"
        " decided_at) VALUES ('r1', 'c1', 'deactivate_user', 'R3', 'megan@contoso.com',"
        " 'left the | groups', 'skipped', 'blocked', now())"
    )
    summary = {"tenant": "demo", "run_id": "r1", "status": "blocked",
               "error": "R4: too many", "changes": {"deactivate_user": 1}}  # fmt: skip
    words = outcome_markdown(con, summary)
    assert words.startswith("# Tenant demo: blocked")
    assert "**Why:** R4: too many" in words and "--allow-deactivations --tenant demo" in words
    assert "## Deactivations that blocked the run: 1" in words
    assert "| megan@contoso.com | R3 | left the \\| groups |" in words


def test_cycle_verdict_lists_the_tenants_that_did_not_complete():
    results = [
        TenantRunResult("b", "sync-b", "2", "Blocked", "FAILED", "R4: too many"),
        TenantRunResult("a", "sync-a", "1", "Completed", "COMPLETED", "3 changes"),
        TenantRunResult("c", "sync-c", "3", "Crashed", "CRASHED", "killed"),
    ]
    ok, message = verdict(results, "cycle")
    assert not ok
    assert (
        message
        == "cycle: 2 of 3 tenants did not complete: b Blocked: R4: too many; c Crashed: killed"
    )
    assert [row["tenant"] for row in result_rows(results)] == ["b", "c", "a"]
    assert verdict(results[1:2], "cycle") == (True, "cycle: the 1 tenant completed")


def test_a_cycle_starts_every_named_enabled_entry_and_lists_the_nameless_as_failed(tmp_path):
    path = tmp_path / "tenants.yaml"
    good = {"name": "acme", "tenant_id": "t1", "client_id": "c", "credential": {"env": "S"},
            "domains": ["acme.com"], "groups": [{"group": "G", "role": "R"}],
            "emply": {"customer": "acme", "api_key": {"env": "K"}}}  # fmt: skip
    entries = [
        good,
        good | {"name": "broken", "max_deactivations": 2.9, "emply": {"customer": "b"}},
        good | {"name": "off", "enabled": False, "groups": []},
        good | {"name": "Not_A_Label"},
    ]
    path.write_text(yaml.safe_dump({"tenants": entries}))
    read = read_tenants_file(path)
    assert tenants_to_start(read) == ["acme", "broken"]  # `off` is switched off
    (nameless,) = unstartable(read)
    assert (nameless.tenant, nameless.state, nameless.state_type) == ("tenants[3]", "Failed",
                                                                      "FAILED")  # fmt: skip
    assert nameless.message.startswith(f"{path}: tenants[3].name: 'Not_A_Label' is not a valid")
    ok, message = verdict([TenantRunResult("acme", "sync-acme", "1", "Completed", "COMPLETED",
                                           "0 changes"), nameless], "cycle")  # fmt: skip
    assert not ok and message.startswith(
        "cycle: 1 of 2 tenants did not complete: tenants[3] Failed"
    )


def test_a_tenant_whose_entry_is_invalid_is_rerun_by_name(warehouses):
    broken = InvalidEntry(index=0, name="failed-now", enabled=True, reason="bad")
    nameless = InvalidEntry(index=1, name=None, enabled=True, reason="bad")
    found = tenants_to_rerun([broken, nameless], hours=24, now=NOW)
    assert [(t.tenant, t.status) for t in found] == [("failed-now", "failed")]
