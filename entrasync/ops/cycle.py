"""A fan-out of tenant runs, told as one result: which tenants completed and which did not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from entrasync.tenants_file import InvalidEntry, TenantsFile

OK_STATE_TYPES = ("COMPLETED",)  # Completed, and "Planned" for a dry run


@dataclass(frozen=True)
class TenantRunResult:
    tenant: str
    flow_run: str  # the child's flow-run name (sync-<tenant>)
    flow_run_id: str
    state: str  # the state's name: Completed, Planned, Failed, Blocked, Crashed, Running...
    state_type: str  # COMPLETED, FAILED, CRASHED, CANCELLED, RUNNING, ...
    message: str

    @property
    def ok(self) -> bool:
        return self.state_type in OK_STATE_TYPES


def tenants_to_start(tenants_file: TenantsFile) -> list[str]:
    """The enabled tenants of a cycle: valid ones, and named ones whose entry is invalid (their
    run records the failure in their own warehouse, so the UI, history and reruns see it)."""
    names = [tenant.name for tenant in tenants_file.tenants if tenant.enabled]
    names += [entry.name for entry in tenants_file.invalid if entry.name and entry.enabled]
    return sorted(set(names))


def unstartable(tenants_file: TenantsFile) -> list[TenantRunResult]:
    """Entries without a valid name own no warehouse and get no run: listed failed, with why."""
    return [_not_started(entry) for entry in tenants_file.invalid if entry.name is None]


def _not_started(entry: InvalidEntry) -> TenantRunResult:
    return TenantRunResult(entry.label, "(not started)", "", "Failed", "FAILED", entry.reason)


def idempotency_key(cycle: str, tenant: str) -> str:
    """One child per cycle and tenant: a retried parent finds its children instead of doubling."""
    return f"{cycle}/{tenant}"


def result_rows(results: list[TenantRunResult]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in asdict(result).items() if k != "state_type"}
        for result in sorted(results, key=lambda r: (r.ok, r.tenant))
    ]


def verdict(results: list[TenantRunResult], what: str) -> tuple[bool, str]:
    """(all completed?, the message ops read on the parent run)."""
    if not results:
        return True, f"{what}: no tenant to run"
    not_ok = [r for r in sorted(results, key=lambda r: r.tenant) if not r.ok]
    if not not_ok:
        return True, f"{what}: " + (
            "the 1 tenant completed"
            if len(results) == 1
            else f"all {len(results)} tenants completed"
        )
    listed = "; ".join(f"{r.tenant} {r.state}: {r.message}" for r in not_ok)
    return False, f"{what}: {len(not_ok)} of {len(results)} tenants did not complete: {listed}"
