"""Scenario files are checked strictly: each mistake is one line naming file, key path, want."""

from pathlib import Path

import pytest

from entrasync.scenario import ScenarioError, load_scenario
from entrasync.scenario.tenants_file import merge_settings

SPEC_EXAMPLE = """\
name: role mapping change keeps unmapped roles
settings: {tenant_id: t1, domains: [contoso.com], sync_roles: true,
           groups: [{group: Employee, role: Employee}, {group: HR, role: HR}]}
entra:
  users: [{upn: megan@contoso.com, mail: megan@contoso.com, displayName: Megan Jordan}]
  groups: [{name: Employee, members: [megan@contoso.com]}, {name: HR, members: [megan@contoso.com]}]
emply:
  roles: [Employee, HR, Manager, New employee, {name: Administrator, admin: true}]
  users: [{username: megan@contoso.com, email: megan@contoso.com, roles: [Employee, HR, Manager]}]
steps:
  - sync: {}
  - settings: {groups: [{group: Employee, role: New employee}, {group: HR, role: HR}]}
  - sync: {}
  - expect:
      run: {status: completed, changes: {set_roles: 1}}
      emply: {users: {megan@contoso.com: {active: true, roles: [New employee, HR, Manager]}}}
"""

HEAD = """\
name: x
settings: {tenant_id: t1, domains: [contoso.com], groups: []}
steps:
"""


def scenario_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = scenario_file(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def steps_error(tmp_path: Path, steps: str) -> str:
    return error_of(tmp_path, HEAD + steps + "  - expect: {run: {status: completed}}\n")


def test_spec_example_loads_with_defaults_filled(tmp_path):
    scenario = load_scenario(scenario_file(tmp_path, SPEC_EXAMPLE))
    assert scenario.name == "role mapping change keeps unmapped roles"
    assert scenario.settings["write"] == {"update": False, "create": False, "delete": False}
    assert scenario.settings["max_deactivations"] == 500
    assert scenario.entra_users[0]["accountEnabled"] is True
    assert scenario.entra_users[0]["userType"] == "Member"
    assert scenario.emply_users[0]["active"] is True
    assert [step.label for step in scenario.steps] == [
        "step 1 sync", "step 2 settings", "step 3 sync", "step 4 expect",
    ]  # fmt: skip
    assert scenario.steps[0].body == {"dry_run": False, "allow_deactivations": False}


def test_wrong_type_names_file_key_path_and_expectation(tmp_path):
    path = scenario_file(
        tmp_path,
        HEAD
        + "  - sync: {}\n  - sync: {}\n"
        + "  - entra: [{add_member: {group: 3, user: megan@contoso.com}}]\n"
        + "  - expect: {run: {status: completed}}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: steps[2].entra[0].add_member.group: expected text, got 3"


def test_unknown_op_lists_the_known_ones(tmp_path):
    message = steps_error(tmp_path, "  - entra: [{add_membr: {group: HR, user: a@b.c}}]\n")
    assert message.startswith("steps[0].entra[0].add_membr: unknown entra op, expected one of: ")
    assert "add_member" in message and "fault" in message


def test_missing_arg_names_it(tmp_path):
    message = steps_error(tmp_path, "  - entra: [{add_member: {group: HR}}]\n")
    assert message == "steps[0].entra[0].add_member.user: missing, expected text"


def test_unknown_arg_lists_the_args(tmp_path):
    message = steps_error(tmp_path, "  - emply: [{deactivate_user: {username: a}}]\n")
    assert (
        message == "steps[0].emply[0].deactivate_user.username: unknown key, expected one of: user"
    )


def test_unknown_top_level_key(tmp_path):
    message = error_of(tmp_path, HEAD.replace("name: x", "nam: x") + "  - expect: {}\n")
    assert message.startswith("nam: unknown key, expected one of: name, settings, entra, emply")


def test_missing_top_level_key(tmp_path):
    message = error_of(tmp_path, "name: x\nsteps: [{expect: {}}]\n")
    assert message.startswith("settings: missing, expected a mapping")


def test_unknown_settings_key(tmp_path):
    text = HEAD.replace("groups: []", "groups: [], sync_role: true") + "  - expect: {}\n"
    assert error_of(tmp_path, text).startswith("settings.sync_role: unknown key, expected one of:")


def test_settings_step_checks_nested_write(tmp_path):
    message = steps_error(tmp_path, "  - settings: {write: {create: yes please}}\n")
    assert message == "steps[0].settings.write.create: expected true or false, got 'yes please'"


def test_unknown_step_kind(tmp_path):
    message = steps_error(tmp_path, "  - wait: {}\n")
    assert message.startswith("steps[0].wait: unknown step kind, expected one of: sync, settings")


def test_step_with_two_kinds(tmp_path):
    message = steps_error(tmp_path, "  - {sync: {}, expect: {}}\n")
    assert message == "steps[0]: expected a mapping with one step kind as its key, got 2 keys"


def test_unknown_change_kind_in_expect(tmp_path):
    message = error_of(tmp_path, HEAD + "  - expect: {run: {changes: {link: 1}}}\n")
    assert message.startswith("steps[0].expect.run.changes.link: expected one of: link_user,")


def test_unknown_expect_key_for_emply_user(tmp_path):
    text = HEAD + "  - expect: {emply: {users: {a@b.c: {enabled: true}}}}\n"
    assert error_of(tmp_path, text).startswith(
        "steps[0].expect.emply.users.a@b.c.enabled: unknown key, expected one of: exists, active"
    )


def test_wrong_count_type(tmp_path):
    text = HEAD + "  - expect: {run: {changes: {create_user: one}}}\n"
    message = error_of(tmp_path, text)
    assert (
        message
        == "steps[0].expect.run.changes.create_user: expected a whole number >= 0, got 'one'"
    )


def test_a_scenario_needs_an_expect_step(tmp_path):
    message = error_of(tmp_path, HEAD + "  - sync: {}\n")
    assert message == "steps: expected at least one expect step, got none"


def test_a_key_given_twice_is_refused(tmp_path):
    message = error_of(tmp_path, HEAD + "  - expect: {}\nname: y\n")
    assert message.startswith("not valid YAML (line 5: key 'name' appears twice")


def test_yaml_date_times_become_iso_text(tmp_path):
    ops = (
        "  - emply: [{add_event: {user: a, calendar: Calendar, subject: s,"
        " start: 2025-01-02T10:00:00, end: '2025-01-02T11:00:00'}}]\n"
    )
    scenario = load_scenario(scenario_file(tmp_path, HEAD + ops + "  - expect: {}\n"))
    assert scenario.steps[0].body[0].args["start"] == "2025-01-02T10:00:00"


def test_settings_step_merges_write_key_by_key(tmp_path):
    text = HEAD + "  - settings: {write: {create: true}, sync_roles: false}\n  - expect: {}\n"
    scenario = load_scenario(scenario_file(tmp_path, text))
    merged = merge_settings(scenario.settings, scenario.steps[0].body)
    assert merged["write"] == {"update": False, "create": True, "delete": False}
    assert merged["sync_roles"] is False
    assert merged["tenant_id"] == "t1"


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope.yaml: cannot read"):
        load_scenario(tmp_path / "nope.yaml")
