"""What the fleet's set-up promises: warm runs for every deployment, PostgreSQL installed by
`make test`, and `entrasync stack up`'s demo tenants (one of them failing on purpose)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from entrasync.ops.stack_up import DEMO_TENANTS, FAILING_TENANT, MISSING_GROUP, demo_tenants
from entrasync.settings import load_tenants

CHECKOUT = Path(__file__).resolve().parents[2]


def test_every_deployment_starts_its_runs_through_the_warm_launcher():
    deployments = yaml.safe_load((CHECKOUT / "prefect.yaml").read_text())["deployments"]
    commands = {d["name"]: d["work_pool"]["job_variables"]["command"] for d in deployments}
    assert set(commands.values()) == {"python -m entrasync.warm.launch"}, commands


def test_make_test_installs_postgresql_when_missing():
    makefile = (CHECKOUT / "Makefile").read_text()
    assert re.search(r"^test: .*\bpostgresql\b", makefile, re.M)
    assert "apt-get install -y -q --no-install-recommends postgresql" in makefile
    assert "/usr/lib/postgresql/*/bin/pg_ctl" in makefile


def test_stack_up_tenants_load_and_one_names_a_group_entra_lacks(tmp_path):
    tenants_file = tmp_path / "tenants.yaml"
    demo_tenants(tenants_file)
    tenants = {tenant.name: tenant for tenant in load_tenants(tenants_file)}
    assert set(tenants) == {*DEMO_TENANTS, FAILING_TENANT}
    assert len({tenant.tenant_id for tenant in tenants.values()}) == len(tenants)
    assert len({tenant.emply.customer for tenant in tenants.values()}) == len(tenants)
    groups = {name: {g.group for g in tenant.groups} for name, tenant in tenants.items()}
    assert MISSING_GROUP in groups[FAILING_TENANT]
    assert all(MISSING_GROUP not in groups[name] for name in DEMO_TENANTS)
