"""Scenario files: every file in tests/scenarios runs green, and the runner reports misses."""

from __future__ import annotations

import io
import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrasync.errors import SettingsError
from entrasync.scenario import ScenarioResult, run_files, run_scenario
from entrasync.scenario.expect import ABSENT, check_expect
from entrasync.scenario.report import miss_line
from entrasync.scenario.tenants_file import EMPLY_KEY_ENV, SECRET_ENV

SCENARIO_FILES = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="session")
def scenario_stack():
    from entrasync.emulator_client import EmulatorProcess

    stack = EmulatorProcess().start()
    yield stack
    stack.stop()


def failure_report(result: ScenarioResult) -> str:
    return "\n".join([f"{result.source}:", *result.lines()])


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_scenario(path: Path, scenario_stack) -> None:
    result = run_scenario(path, scenario_stack)
    assert result.passed, failure_report(result)


# The runner itself, against the emulators, with the sync step replaced by a fake.

TINY = """\
name: tiny
settings: {tenant_id: tiny, domains: [contoso.com], groups: [{group: Employee, role: Employee}]}
entra:
  users: [{upn: megan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}]
  groups: [{name: Employee, members: [megan@contoso.com]}]
emply:
  roles: [Employee, Manager]
  users: [{username: megan@contoso.com, email: megan@contoso.com, roles: [Employee]}]
steps:
"""


def write_scenario(tmp_path: Path, steps: str, head: str = TINY) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(head + steps)
    return path


class FakeSync:
    """Stands in for the flow: records what it was given, returns a canned summary."""

    def __init__(self, summary: dict[str, Any] | None = None, error: Exception | None = None):
        self.summary = summary or {"run_id": "r1", "status": "completed", "changes": {}}
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        tenants_file = Path(kwargs["tenants_file"])
        self.calls.append(
            {
                **kwargs,
                "tenants": yaml.safe_load(tenants_file.read_text())["tenants"],
                "tenants_text": tenants_file.read_text(),
                "env": dict(os.environ),
            }
        )
        if self.error:
            raise self.error
        return self.summary


def test_a_miss_exits_non_zero_and_prints_expected_and_actual(tmp_path, scenario_stack):
    path = write_scenario(
        tmp_path,
        "  - expect:\n"
        "      emply: {users: {megan@contoso.com: {active: true, roles: [Manager]}}}\n"
        "      entra: {users: {megan@contoso.com: {exists: true, groups: [Employee]}}}\n",
    )
    out = io.StringIO()
    assert run_files([str(path)], out=out, stack=scenario_stack) == 1
    lines = out.getvalue().splitlines()
    assert (
        "FAIL tiny · step 1 expect · emply.users.megan@contoso.com.roles: "
        "expected {'Manager'}, got {'Employee'}"
    ) in lines
    assert len([line for line in lines if line.startswith("FAIL")]) == 1  # the other keys held
    assert lines[-1] == "1 scenario: 0 passed, 1 failed"


def test_all_expects_holding_exits_zero_with_a_pass_line(tmp_path, scenario_stack):
    path = write_scenario(
        tmp_path,
        "  - expect:\n"
        "      emply: {users: {megan@contoso.com: {exists: true, active: true,"
        " roles: [Employee], employee: false}, nobody: {exists: false}}}\n"
        "      entra: {users: {megan@contoso.com: {exists: true, deleted: false,"
        " groups: [Employee], mail: megan@contoso.com, accountEnabled: true}}}\n",
    )
    out = io.StringIO()
    assert run_files([str(path)], out=out, stack=scenario_stack) == 0, out.getvalue()
    assert out.getvalue().splitlines() == [
        "PASS tiny (10 checks)",
        "1 scenario: 1 passed, 0 failed",
    ]


def test_a_broken_file_is_reported_and_the_others_still_run(tmp_path, scenario_stack):
    good = write_scenario(tmp_path, "  - expect: {emply: {users: {megan@contoso.com: {}}}}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text(TINY + "  - expect: {run: {status: done}}\n")
    out = io.StringIO()
    assert run_files([str(broken), str(good)], out=out, stack=scenario_stack) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"ERROR {broken}: steps[0].expect.run.status: expected one of:")
    assert lines[1:] == ["PASS tiny (0 checks)", "2 scenarios: 1 passed, 1 failed"]


def test_sync_gets_the_tenants_file_and_environment(tmp_path, scenario_stack):
    path = write_scenario(
        tmp_path,
        "  - sync: {dry_run: true}\n"
        "  - settings: {write: {create: true}, sync_roles: false}\n"
        "  - sync: {allow_deactivations: true}\n"
        "  - expect: {run: {status: completed}}\n",
    )
    fake = FakeSync()
    result = run_scenario(path, scenario_stack, sync_tenant=fake)
    assert result.passed, failure_report(result)
    first, second = fake.calls
    assert (first["tenant"], first["dry_run"], first["allow_deactivations"]) == (
        "tiny",
        True,
        False,
    )
    assert (second["dry_run"], second["allow_deactivations"]) == (False, True)
    tenant = first["tenants"][0]
    assert tenant["name"] == "tiny" and tenant["tenant_id"] == "tiny"
    assert tenant["credential"] == {"env": SECRET_ENV}
    assert tenant["emply"] == {"customer": "tiny", "api_key": {"env": EMPLY_KEY_ENV}}
    assert tenant["write"] == {"update": False, "create": False, "delete": False}
    assert second["tenants"][0]["write"] == {"update": False, "create": True, "delete": False}
    assert second["tenants"][0]["sync_roles"] is False
    env = first["env"]
    assert {**env, **scenario_stack.env()} == env
    assert env["ENTRASYNC_DATA_DIR"] == str(Path(first["tenants_file"]).parent)
    for name in (SECRET_ENV, EMPLY_KEY_ENV):
        assert env[name] and env[name] not in first["tenants_text"]
    assert SECRET_ENV not in os.environ and EMPLY_KEY_ENV not in os.environ  # restored


def test_the_pipeline_reaches_the_seeded_tenants_with_the_scenario_credentials(
    tmp_path, scenario_stack
):
    """The credentials the runner hands over are the ones the emulators were reset with."""
    import httpx

    def sync_with_a_token(**kwargs: Any) -> dict[str, Any]:
        tenant = yaml.safe_load(Path(kwargs["tenants_file"]).read_text())["tenants"][0]
        emply_url = f"{os.environ['ENTRASYNC_EMPLY_URL']}/{tenant['emply']['customer']}/roles"
        roles = httpx.get(
            emply_url,
            params={"apiKey": os.environ[EMPLY_KEY_ENV]},
            verify=ssl.create_default_context(cafile=os.environ["ENTRASYNC_CA_BUNDLE"]),
        )
        roles.raise_for_status()
        token = httpx.post(
            f"{os.environ['ENTRASYNC_AUTHORITY_HOST']}/{tenant['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": tenant["client_id"],
                "client_secret": os.environ[SECRET_ENV],
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=ssl.create_default_context(cafile=os.environ["ENTRASYNC_CA_BUNDLE"]),
        )
        token.raise_for_status()
        return {"status": "completed", "changes": {"roles": len(roles.json())}}

    path = write_scenario(tmp_path, "  - sync: {}\n  - expect: {run: {status: completed}}\n")
    result = run_scenario(path, scenario_stack, sync_tenant=sync_with_a_token)
    assert result.passed, failure_report(result)


def test_run_expect_compares_the_last_sync_and_counts_missing_kinds_as_zero(
    tmp_path, scenario_stack
):
    path = write_scenario(
        tmp_path,
        "  - sync: {}\n"
        "  - expect: {run: {status: completed, changes: {create_user: 1, link_user: 0}}}\n"
        "  - expect: {run: {status: blocked, changes: {create_user: 2}}}\n",
    )
    summary = {"status": "completed", "changes": {"create_user": 1}, "error": None}
    result = run_scenario(path, scenario_stack, sync_tenant=FakeSync(summary))
    assert result.checks == 5
    assert result.failures == [
        "FAIL tiny · step 3 expect · run.status: expected 'blocked', got 'completed'",
        "FAIL tiny · step 3 expect · run.changes.create_user: expected 2, got 1",
    ]


def test_a_sync_that_raises_fails_its_step_and_stops_the_scenario(tmp_path, scenario_stack):
    path = write_scenario(tmp_path, "  - sync: {}\n  - expect: {run: {status: completed}}\n")
    result = run_scenario(
        path, scenario_stack, sync_tenant=FakeSync(error=RuntimeError("Graph said no"))
    )
    assert result.failures == ["FAIL tiny · step 1 sync · raised RuntimeError: Graph said no"]
    assert result.checks == 0


def test_a_settings_error_raised_by_the_sync_is_a_failed_run_the_expect_can_check(
    tmp_path, scenario_stack
):
    path = write_scenario(
        tmp_path,
        "  - sync: {}\n"
        "  - expect: {run: {status: failed, changes: {link_user: 0}}}\n"
        "  - sync: {}\n"
        "  - expect: {run: {status: completed}}\n",
    )
    error = SettingsError("tenants.yaml: tenants[0].groups: expected a non-empty list")
    result = run_scenario(path, scenario_stack, sync_tenant=FakeSync(error=error))
    assert result.failures == [
        "FAIL tiny · step 4 expect · run.status: expected 'completed', got 'failed' (error: "
        "SettingsError: tenants.yaml: tenants[0].groups: expected a non-empty list)"
    ]
    assert result.checks == 3


def test_secrets_never_reach_the_output(tmp_path, scenario_stack):
    def leaky_sync(**kwargs: Any) -> dict[str, Any]:
        raise RuntimeError(f"token request with {os.environ[SECRET_ENV]} failed")

    path = write_scenario(tmp_path, "  - sync: {}\n  - expect: {run: {status: completed}}\n")
    result = run_scenario(path, scenario_stack, sync_tenant=leaky_sync)
    assert result.failures == [
        "FAIL tiny · step 1 sync · raised RuntimeError: token request with *** failed"
    ]


def test_a_refused_op_names_the_step_and_the_op(tmp_path, scenario_stack):
    path = write_scenario(
        tmp_path,
        "  - entra: [{add_group: {name: HR}},"
        " {add_member: {group: HR, user: nobody@contoso.com}}]\n"
        "  - expect: {entra: {users: {megan@contoso.com: {groups: [Employee]}}}}\n",
    )
    result = run_scenario(path, scenario_stack)
    assert len(result.failures) == 1
    assert result.failures[0].startswith(
        "FAIL tiny · step 1 entra · entra[1].add_member: control surface answered 404"
    )
    assert result.checks == 0


EVERY_OP = """\
  - entra:
      - add_user: {upn: lee@contoso.com, mail: lee@contoso.com, displayName: Lee Gu,
                   givenName: Lee, surname: Gu, jobTitle: Engineer, department: R&D,
                   mobilePhone: '+45 1234', otherMails: [lee@outlook.com]}
      - add_user: {upn: 'g_fabrikam.com#EXT#@contoso.onmicrosoft.com', mail: g@fabrikam.com,
                   userType: Guest}
      - add_group: {name: HR}
      - add_member: {group: HR, user: lee@contoso.com}
      - add_member: {group: HR, user: megan@contoso.com}
      - remove_member: {group: Employee, user: megan@contoso.com}
      - update_user: {upn: lee@contoso.com, set: {jobTitle: Lead, upn: lee.gu@contoso.com,
                                                  mail: lee.gu@contoso.com}}
      - add_calendar: {user: megan@contoso.com, name: Team, canEdit: true}
      - add_calendar: {user: megan@contoso.com, name: Holidays, canEdit: false, isDefault: false}
      - remove_calendar: {user: megan@contoso.com, name: Holidays}
      - set_photo: {user: megan@contoso.com, content: megan}
      - add_group: {name: Temp}
      - delete_group: {name: Temp}
      - add_user: {upn: gone@contoso.com}
      - delete_user: {upn: gone@contoso.com}
      - disable_user: {upn: megan@contoso.com}
      - fault: {path: /users, status: 429, times: 1, retry_after: 1}
  - emply:
      - add_role: {name: Administrator, admin: true}
      - add_user: {username: lee@contoso.com, email: lee@contoso.com, roles: [Employee]}
      - add_user: {username: ex@partner.com, email: ex@partner.com, active: false}
      - add_employee: {email: lee@contoso.com, first_name: Lee, last_name: Gu, job_title: Engineer,
                       department: R&D, mobile: '+45 1234', user: lee@contoso.com}
      - add_employee: {email: ann@contoso.com, first_name: Ann}
      - update_employee: {email: ann@contoso.com, set: {job_title: Buyer}}
      - archive_employee: {email: ann@contoso.com}
      - set_roles: {user: megan@contoso.com, roles: [Employee, Manager]}
      - deactivate_user: {user: megan@contoso.com}
      - disable_calendar_sync: {user: megan@contoso.com}
      - delete_user: {user: ex@partner.com}
      - fault: {path: exports, status: 500, times: 1}
  - expect:
      entra:
        users:
          megan@contoso.com: {exists: true, accountEnabled: false, groups: [HR]}
          lee.gu@contoso.com: {exists: true, jobTitle: Lead, otherMails: [lee@outlook.com],
                               groups: [HR]}
          lee@contoso.com: {exists: false}  # found neither by UPN nor by mail any more
          'g_fabrikam.com#EXT#@contoso.onmicrosoft.com': {exists: true, userType: Guest}
          gone@contoso.com: {deleted: true}
      emply:
        users:
          megan@contoso.com: {exists: true, active: false, roles: [Manager, Employee]}
          lee@contoso.com: {exists: true, active: true, employee: true, calendars: {}}
          ex@partner.com: {exists: false}
"""


def test_every_op_reaches_the_emulators_with_its_spec_arguments(tmp_path, scenario_stack):
    result = run_scenario(write_scenario(tmp_path, EVERY_OP), scenario_stack)
    assert result.passed, failure_report(result)


# Checking an expect step, without emulators.


def readers(emply: dict[str, dict], entra: dict[str, dict]):
    return (
        lambda username: emply.get(username, {"exists": False}),
        lambda upn: entra.get(upn, {"exists": False, "deleted": False}),
    )


def lines_of(expect: dict, last_run: dict | None, emply=None, entra=None) -> list[str]:
    outcome = check_expect(expect, last_run, *readers(emply or {}, entra or {}))
    return [miss_line("s", "step 2 expect", miss) for miss in outcome.misses]


def test_roles_and_groups_compare_as_sets():
    emply = {"m": {"exists": True, "roles": ["HR", "Employee"]}}
    entra = {"m@c.com": {"exists": True, "groups": ["B", "A"]}}
    expect = {"emply": {"users": {"m": {"roles": ["Employee", "HR"]}}},
              "entra": {"users": {"m@c.com": {"groups": ["A", "B"]}}}}  # fmt: skip
    assert lines_of(expect, None, emply, entra) == []


def test_calendar_names_must_match_exactly_and_each_given_field():
    emply = {
        "m": {
            "exists": True,
            "calendars": {
                "Calendar": {"enabled": True, "can_disable": False},
                "Team": {"enabled": False, "can_disable": True},
            },
        }
    }
    expect = {"emply": {"users": {"m": {"calendars": {"Calendar": {"can_disable": True}}}}}}
    assert lines_of(expect, None, emply) == [
        "FAIL s · step 2 expect · emply.users.m.calendars: "
        "expected {'Calendar'}, got {'Calendar','Team'}",
        "FAIL s · step 2 expect · emply.users.m.calendars.Calendar.can_disable: "
        "expected true, got false",
    ]


def test_a_missing_user_shows_absent_attributes():
    expect = {"emply": {"users": {"x": {"exists": True, "active": True}}}}
    assert lines_of(expect, None) == [
        "FAIL s · step 2 expect · emply.users.x.exists: expected true, got false",
        "FAIL s · step 2 expect · emply.users.x.active: expected true, got <absent>",
    ]


def test_run_expect_before_any_sync():
    assert lines_of({"run": {"status": "completed", "changes": {"link_user": 0}}}, None) == [
        "FAIL s · step 2 expect · run.status: expected 'completed', got <no sync has run>",
        "FAIL s · step 2 expect · run.changes.link_user: expected 0, got <no sync has run>",
    ]


def test_a_failed_run_shows_its_error():
    summary = {"status": "failed", "changes": {}, "error": "ExtractionError: users read failed"}
    assert lines_of({"run": {"status": "completed"}}, summary) == [
        "FAIL s · step 2 expect · run.status: expected 'completed', "
        "got 'failed' (error: ExtractionError: users read failed)"
    ]


def test_true_is_not_one():
    entra = {"u": {"exists": True, "accountEnabled": 1}}
    assert (
        len(lines_of({"entra": {"users": {"u": {"accountEnabled": True}}}}, None, entra=entra)) == 1
    )


def test_photo_digest_compares_case_insensitively_and_null_means_no_photo():
    emply = {
        "m": {"exists": True, "photo_sha256": "ABC"},
        "n": {"exists": True, "photo_sha256": None},
    }
    expect = {"emply": {"users": {"m": {"photo_sha256": "abc"}, "n": {"photo_sha256": None}}}}
    assert lines_of(expect, None, emply) == []
    assert ABSENT.text == "<absent>"


def test_a_sync_that_changes_a_system_without_counting_it_fails_its_step(tmp_path, scenario_stack):
    """The runner's own check on every sync step: nothing changes that no applied change says."""

    def silent_sync(**kwargs: Any) -> dict[str, Any]:
        with scenario_stack.control() as control:
            control.emply_op("tiny", "set_roles", {"user": "megan@contoso.com",
                                                   "roles": ["Manager"]})  # fmt: skip
        return {"run_id": "r1", "status": "completed", "changes": {}}

    path = write_scenario(tmp_path, "  - sync: {}\n  - expect: {run: {status: completed}}\n")
    result = run_scenario(path, scenario_stack, sync_tenant=silent_sync)
    assert result.failures == [
        "FAIL tiny · step 1 sync · emply user megan@contoso.com changed roles with no applied "
        "set_roles or create_user: expected ['Employee'], got ['Manager']"
    ]
