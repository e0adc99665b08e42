"""Every deployment in prefect.yaml: its entrypoint imports, its parameters fit the flow."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.flows import load_flow_from_entrypoint

from entrasync.ops.names import RERUN_FAILED_DEPLOYMENT, SYNC_TENANT_DEPLOYMENT

CHECKOUT = Path(__file__).resolve().parents[2]
PREFECT_YAML = yaml.safe_load((CHECKOUT / "prefect.yaml").read_text())
DEPLOYMENTS = {deployment["name"]: deployment for deployment in PREFECT_YAML["deployments"]}
# values for required parameters a deployment leaves to each run
RUN_PARAMETERS = {"sync-tenant": {"tenant": "demo"}}


def load_flow(deployment: dict):
    return load_flow_from_entrypoint(str(CHECKOUT / deployment["entrypoint"]))


def test_prefect_reads_the_file_as_we_do():
    model = PrefectYamlModel.model_validate(PREFECT_YAML)
    assert [d.name for d in model.deployments] == list(DEPLOYMENTS)
    assert set(DEPLOYMENTS) == {"sync-all-tenants", "sync-tenant", "rerun-failed-tenants"}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_entrypoint_imports_and_parameters_resolve(name):
    deployment = DEPLOYMENTS[name]
    flow = load_flow(deployment)
    assert flow.name == name  # one deployment per flow, named after it: "<flow>/<deployment>"
    signature = inspect.signature(flow.fn).parameters
    unknown = set(deployment["parameters"]) - set(signature)
    assert not unknown, f"{name}: parameters the flow does not take: {unknown}"
    given = deployment["parameters"] | RUN_PARAMETERS.get(name, {})
    flow.validate_parameters(given)  # types and required parameters, as Prefect checks a run
    assert deployment["work_pool"]["name"] == "entrasync-pool"


def test_sync_tenant_takes_the_documented_parameters():
    signature = inspect.signature(load_flow(DEPLOYMENTS["sync-tenant"]).fn).parameters
    assert {"tenant", "dry_run", "allow_deactivations"} <= set(signature)


def test_cycle_every_30_minutes_never_stacks():
    cycle = DEPLOYMENTS["sync-all-tenants"]
    assert cycle["schedules"] == [{"interval": 1800}]
    assert cycle["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}


def test_flows_start_deployments_that_exist():
    names = {f"{load_flow(d).name}/{d['name']}" for d in DEPLOYMENTS.values()}
    assert {SYNC_TENANT_DEPLOYMENT, RERUN_FAILED_DEPLOYMENT} <= names


def test_workers_run_the_code_of_their_checkout():
    (step,) = PREFECT_YAML["pull"]
    assert step == {
        "prefect.deployments.steps.set_working_directory": {
            "directory": "{{ $ENTRASYNC_CHECKOUT }}"
        }
    }
