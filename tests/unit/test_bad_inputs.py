"""The bad-input catalogue: every bad input an operator can give is refused in one exact line,
and nothing is written (no warehouse file created, no table changed).

One table, four kinds of input: tenants files (through `entrasync sync`), other misuse of the
command line, scenario files (`entrasync scenario run`) and Emply export packages (the extract
step of a run). Each case makes its input in a fresh folder, tries it, and returns the one line
the operator is shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import orjson
import pytest
import yaml

from entrasync.cli import main
from entrasync.connectors.emply import EmplyExportError
from entrasync.extract.emply import extract_emply
from entrasync.scenario import run_files
from entrasync.warehouse.db import connect

ACME = {
    "name": "acme",
    "tenant_id": "t1",
    "client_id": "c1",
    "credential": {"env": "ACME_SECRET"},
    "domains": ["acme.com"],
    "groups": [{"group": "Employees", "role": "Employee"}],
    "emply": {"customer": "acme", "api_key": {"env": "ACME_KEY"}},
}
NUMBER_0_100 = "a number from 0 to 100"


@dataclass(frozen=True)
class Case:
    id: str
    attempt: Callable[[Path], str]  # makes the input under the folder, returns the line shown
    expected: str  # `{tmp}` stands for the folder
    prepare: Callable[[Path], None] | None = None  # state that exists before the bad input


def cli_line(*argv: str) -> str:
    """What `entrasync ARGV` prints on stderr, checked to be one line with exit code 2."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as ended:
        main(list(argv))
    assert ended.value.code == 2, err.getvalue()
    text = err.getvalue()
    assert text.count("\n") == 1, text
    return text.rstrip("\n")


# ---- tenants files, through `entrasync sync --tenant acme` -----------------------------------


def sync_with(*entries: dict[str, Any], tenant: str = "acme") -> Callable[[Path], str]:
    def attempt(tmp: Path) -> str:
        path = tmp / "tenants.yaml"
        path.write_text(yaml.safe_dump({"tenants": list(entries)}), encoding="utf-8")
        return cli_line("sync", "--tenant", tenant, "--tenants-file", str(path))

    return attempt


def setting(key: str, value: Any, expected: str, got: str, path: str | None = None) -> Case:
    return Case(
        f"settings-{key}-{got}",
        sync_with(ACME | {key: value}),
        f"entrasync: {{tmp}}/tenants.yaml: tenants[0].{path or key}: expected {expected}, "
        f"got {got}",
    )


def tenants_file_bytes(content: bytes) -> Callable[[Path], str]:
    def attempt(tmp: Path) -> str:
        path = tmp / "tenants.yaml"
        path.write_bytes(content)
        return cli_line("sync", "--tenant", "acme", "--tenants-file", str(path))

    return attempt


SETTINGS_CASES = [
    setting("max_deactivation_percent", float("nan"), NUMBER_0_100, "float nan"),
    setting("max_deactivation_percent", 5000, NUMBER_0_100, "int 5000"),
    setting("max_deactivation_percent", -1, NUMBER_0_100, "int -1"),
    setting("max_deactivation_percent", True, NUMBER_0_100, "bool True"),
    setting("max_deactivation_percent", "20", NUMBER_0_100, "str '20'"),
    setting("max_deactivations", 2.9, "an integer >= 0", "float 2.9"),
    setting("max_deactivations", float("inf"), "an integer >= 0", "float inf"),
    setting("max_deactivations", -5, "an integer >= 0", "int -5"),
    setting("max_deactivations", False, "an integer >= 0", "bool False"),
    setting("max_deactivations", 3.0, "an integer >= 0", "float 3.0"),
    setting("calendar_window_days", 0, "an integer from 1 to 366", "int 0"),
    setting("calendar_window_days", 1000, "an integer from 1 to 366", "int 1000"),
    setting("photo_checks_per_run", 2.5, "an integer >= 0", "float 2.5"),
    setting("retry_after_cap_seconds", 100000, "a number from 1 to 3600", "int 100000"),
    setting("run_deadline_minutes", 0, "a number from 1 to 1440", "int 0"),
    setting("groups", [], "a non-empty list of {{group, role}}", "an empty list"),
    setting("domains", [], "a non-empty list of text", "an empty list"),
    setting(
        "domains", ["contoso"], "a domain name such as contoso.com", "str 'contoso'", "domains[0]"
    ),
    setting("sync_roles", "yes", "true or false", "str 'yes'"),
    setting("tenant_id", 42, "text", "int 42"),
    Case(
        "settings-role-not-text",
        sync_with(ACME | {"groups": [{"group": "Employees", "role": 3}]}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].groups[0].role: expected text, got int 3",
    ),
    Case(
        "settings-group-mapped-twice",
        sync_with(
            ACME | {"groups": [{"group": "Sales", "role": "A"}, {"group": "sales ", "role": "B"}]}
        ),  # fmt: skip
        "entrasync: {tmp}/tenants.yaml: tenants[0].groups[1].group: group 'sales ' is mapped twice",
    ),
    Case(
        "settings-hybrid-with-writes",
        sync_with(ACME | {"hybrid": True, "write": {"update": True, "create": True}}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].hybrid: hybrid tenants are mastered "
        "on-premises, so write.update/create must be false",
    ),
    Case(
        "settings-unknown-key",
        sync_with(ACME | {"sync_role": True}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].sync_role: unknown key (expected one of: "
        "calendar_window_days, client_id, credential, domains, emply, enabled, groups, hybrid, "
        "max_deactivation_percent, max_deactivations, name, photo_checks_per_run, "
        "retry_after_cap_seconds, run_deadline_minutes, sync_calendars, sync_roles, tenant_id, "
        "transitive_groups, write)",
    ),
    Case(
        "settings-missing-key",
        sync_with({k: v for k, v in ACME.items() if k != "client_id"}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].client_id: missing (expected text)",
    ),
    Case(
        "settings-inline-secret",
        sync_with(ACME | {"credential": {"secret": "hunter2"}}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].credential.secret: unknown key (expected one "
        "of: env, prefect_secret)",
    ),
    Case(
        "settings-two-credential-references",
        sync_with(ACME | {"credential": {"env": "A", "prefect_secret": "b"}}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].credential: expected exactly one of env or "
        "prefect_secret (a reference to the secret, never the secret itself)",
    ),
    Case(
        "settings-export-id-not-text",
        sync_with(ACME | {"emply": {**ACME["emply"], "exports": {"users": 5}}}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].emply.exports.users: expected text, got int 5",
    ),
    Case(
        "settings-name-not-a-dns-label",
        sync_with(ACME | {"name": "Acme_EU"}, tenant="Acme_EU"),
        "entrasync: {tmp}/tenants.yaml: tenants[0].name: 'Acme_EU' is not a valid tenant name "
        "(a tenant name is a DNS label: 1-63 lowercase letters, digits and dashes, starting and "
        "ending with a letter or digit)",
    ),
    Case(
        "settings-name-used-twice",
        sync_with(ACME, ACME | {"client_id": "c2"}),
        "entrasync: {tmp}/tenants.yaml: tenants[0].name: 'acme' is also the name of tenants[1]; "
        "a tenant has one entry",
    ),
    Case(
        "settings-platform-with-two-entra-tenants",
        sync_with(ACME, ACME | {"name": "acme-new", "tenant_id": "t2"}, tenant="acme-new"),
        "entrasync: {tmp}/tenants.yaml: tenants[1].tenant_id: Emply platform 'acme' is also "
        "synced by tenants[0] (Entra tenant 't1'); one platform has exactly one Entra tenant",
    ),
]

# ---- the tenants file itself, and other misuse of the command line ---------------------------

FILE_AND_CLI_CASES = [
    Case(
        "file-not-yaml",
        tenants_file_bytes(b"tenants: [\n  - name: acme\n  -: :\n"),
        "entrasync: {tmp}/tenants.yaml: not valid YAML (line 2: expected the node content, but "
        "found '-')",
    ),  # fmt: skip
    Case(
        "file-not-utf8",
        tenants_file_bytes("tenants: [{name: acmé}]".encode("latin-1")),
        "entrasync: {tmp}/tenants.yaml: not UTF-8 text (byte 0xe9 at offset 20)",
    ),
    Case(
        "file-not-a-tenants-file",
        tenants_file_bytes(b"name: a scenario\nsteps: []\n"),
        "entrasync: {tmp}/tenants.yaml: not a tenants file (expected a mapping with a "
        "`tenants` list, got a mapping)",
    ),  # fmt: skip
    Case(
        "file-empty",
        tenants_file_bytes(b""),
        "entrasync: {tmp}/tenants.yaml: not a tenants file (expected a mapping with a "
        "`tenants` list, got nothing)",
    ),  # fmt: skip
    Case(
        "file-is-a-directory",
        lambda tmp: cli_line("sync", "--tenant", "acme", "--tenants-file", str(tmp)),
        "entrasync: {tmp}: is a directory, expected a tenants file",
    ),
    Case(
        "file-missing",
        lambda tmp: cli_line("sync", "--tenant", "acme", "--tenants-file", str(tmp / "nope.yaml")),
        "entrasync: {tmp}/nope.yaml: file not found",
    ),
    Case(
        "cli-unknown-tenant",
        sync_with(ACME, tenant="acme-typo"),
        "entrasync: {tmp}/tenants.yaml: no tenant named 'acme-typo'",
    ),
    Case(
        "cli-path-as-tenant",
        sync_with(ACME, tenant="../acme"),
        "entrasync: {tmp}/tenants.yaml: no tenant named '../acme'",
    ),
    Case(
        "cli-missing-tenant-flag",
        lambda tmp: cli_line("sync"),
        "entrasync sync: the following arguments are required: --tenant "
        "(see `entrasync sync --help`)",
    ),  # fmt: skip
    Case(
        "cli-flag-with-a-value",
        lambda tmp: cli_line("sync", "--tenant", "a", "--dry-run=yes"),
        "entrasync sync: argument --dry-run: ignored explicit argument 'yes' "
        "(see `entrasync sync --help`)",
    ),  # fmt: skip
    Case(
        "cli-unknown-flag",
        lambda tmp: cli_line("sync", "--tenant", "a", "--allow-deactivation"),
        "entrasync: unrecognized arguments: --allow-deactivation (see `entrasync --help`)",
    ),
    Case(
        "cli-unknown-command",
        lambda tmp: cli_line("synch"),
        "entrasync: argument command: invalid choice: 'synch' (choose from 'demo', 'sync', "
        "'query', 'history', 'explain', 'validation', 'scenario', 'rerun-failed', "
        "'secrets', 'automations', 'worker', 'stack') (see `entrasync --help`)",
    ),  # fmt: skip
    Case(
        "cli-explain-unknown-tenant",
        lambda tmp: cli_line("explain", "--tenant", "nobody", "--user", "megan@contoso.com"),
        "entrasync: no warehouse for tenant 'nobody' at {tmp}/data/warehouse/nobody.duckdb; run "
        "a sync first",
    ),  # fmt: skip
    Case(
        "cli-validation-unknown-tenant",
        lambda tmp: cli_line("validation", "--tenant", "nobody"),
        "entrasync: no warehouse for tenant 'nobody' at {tmp}/data/warehouse/nobody.duckdb; run "
        "a sync first",
    ),  # fmt: skip
    Case(
        "cli-bad-date",
        lambda tmp: cli_line("history", "compact", "--before", "31.01.2025"),
        "entrasync history compact: argument --before: invalid fromisoformat value: "
        "'31.01.2025' (see `entrasync history compact --help`)",
    ),  # fmt: skip
]

# ---- scenario files, through `entrasync scenario run` -----------------------------------------

SCENARIO_HEAD = """\
name: s
settings: {tenant_id: s, domains: [contoso.com], groups: [{group: E, role: E}]}
"""


def scenario(text: str | bytes) -> Callable[[Path], str]:
    def attempt(tmp: Path) -> str:
        path = tmp / "s.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        out = io.StringIO()
        assert run_files([str(path)], out=out) == 1
        error, summary = out.getvalue().splitlines()
        assert summary == "1 scenario: 0 passed, 1 failed"
        return error

    return attempt


SCENARIO_CASES = [
    Case(
        "scenario-not-yaml",
        scenario("name: [s\n"),
        "ERROR {tmp}/s.yaml: not valid YAML (line 2: expected ',' or ']', but got '<stream end>')",
    ),  # fmt: skip
    Case(
        "scenario-not-utf8",
        scenario(b"name: caf\xe9\n"),
        "ERROR {tmp}/s.yaml: not UTF-8 text (byte 0xe9 at offset 9)",
    ),
    Case(
        "scenario-key-twice",
        scenario(SCENARIO_HEAD + "name: t\nsteps: []\n"),
        "ERROR {tmp}/s.yaml: not valid YAML (line 3: key 'name' appears twice in one mapping)",
    ),
    Case(
        "scenario-no-expect",
        scenario(SCENARIO_HEAD + "steps: [{sync: {}}]\n"),
        "ERROR {tmp}/s.yaml: steps: expected at least one expect step, got none",
    ),
    Case(
        "scenario-unknown-step",
        scenario(SCENARIO_HEAD + "steps: [{wait: 5}]\n"),
        "ERROR {tmp}/s.yaml: steps[0].wait: unknown step kind, expected one of: sync, settings, "
        "entra, emply, expect",
    ),  # fmt: skip
    Case(
        "scenario-unknown-status",
        scenario(SCENARIO_HEAD + "steps: [{expect: {run: {status: done}}}]\n"),
        "ERROR {tmp}/s.yaml: steps[0].expect.run.status: expected one of: completed, planned, "
        "blocked, failed, got 'done'",
    ),  # fmt: skip
    Case(
        "scenario-count-not-whole",
        scenario(
            SCENARIO_HEAD.replace("groups:", "max_deactivations: 2.9, groups:")
            + "steps: [{expect: {}}]\n"
        ),
        "ERROR {tmp}/s.yaml: settings.max_deactivations: expected a whole number >= 0, got 2.9",
    ),
    Case(
        "scenario-unknown-entra-op",
        scenario(SCENARIO_HEAD + "steps: [{entra: [{rename_group: {name: E}}]}, {expect: {}}]\n"),
        "ERROR {tmp}/s.yaml: steps[0].entra[0].rename_group: unknown entra op, expected one of: "
        "add_user, update_user, disable_user, delete_user, add_group, delete_group, add_member, "
        "remove_member, add_calendar, remove_calendar, set_photo, fault",
    ),  # fmt: skip
    Case(
        "scenario-missing-file",
        lambda tmp: scenario_missing(tmp),
        "ERROR {tmp}/missing.yaml: cannot read (No such file or directory)",
    ),
]


def scenario_missing(tmp: Path) -> str:
    out = io.StringIO()
    assert run_files([str(tmp / "missing.yaml")], out=out) == 1
    return out.getvalue().splitlines()[0]


# ---- Emply export packages, through the extract step of a run ---------------------------------

USER = {"userId": "u-0", "username": "a@acme.com", "email": "a@acme.com", "firstName": "A",
        "lastName": "B", "active": True, "roles": ["Employee"], "employeeId": None,
        "externalId": None, "calendarSyncEnabled": False}  # fmt: skip
EMPLOYEE = {"employeeId": "e-0", "email": "a@acme.com", "firstName": "A", "lastName": "B",
            "jobTitle": None, "department": None, "mobilePhone": None, "userId": None,
            "status": "active"}  # fmt: skip
ROLE = {"roleId": "r-0", "name": "Employee", "isAdministrator": False}
GOOD_ROWS = {"users": USER, "employees": EMPLOYEE, "roles": ROLE}
GOOD_EXPORTS = {kind: orjson.dumps({"data": [row]}) for kind, row in GOOD_ROWS.items()}
EXPORT_SETTINGS = SimpleNamespace(emply=SimpleNamespace(exports={k: k for k in GOOD_EXPORTS}))


class Exports:
    """Stands in for the Emply client: the export bodies by id."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies

    def read_export_body(self, export_id: str) -> bytes:
        return self.bodies[export_id]


def loaded_once(tmp: Path) -> None:
    with connect("acme") as con:
        extract_emply(con, Exports(GOOD_EXPORTS), EXPORT_SETTINGS)


def export(kind: str, body: bytes) -> Callable[[Path], str]:
    def attempt(tmp: Path) -> str:
        with connect("acme") as con, pytest.raises(EmplyExportError) as caught:
            extract_emply(con, Exports({**GOOD_EXPORTS, kind: body}), EXPORT_SETTINGS)
        return f"{type(caught.value).__name__}: {caught.value}"

    return attempt


def rows(*rows: Any) -> bytes:
    return orjson.dumps({"data": list(rows)})


EXPORT_CASES = [
    Case(
        "export-active-not-a-flag",
        export("users", rows(USER, USER | {"userId": "u-1", "active": "yes"})),
        "EmplyExportError: export 'users' row 1 (userId u-1): field 'active': expected "
        'true/false, got "yes"',
        loaded_once,
    ),  # fmt: skip
    Case(
        "export-missing-id",
        export("users", rows({k: v for k, v in USER.items() if k != "userId"})),
        "EmplyExportError: export 'users' row 0: field 'userId': missing",
        loaded_once,
    ),
    Case(
        "export-row-not-an-object",
        export("users", rows(USER, [1, 2])),
        "EmplyExportError: export 'users' row 1: expected an object, got [1, 2]",
        loaded_once,
    ),
    Case(
        "export-user-twice",
        export("users", rows(USER, USER)),
        "EmplyExportError: export 'users' row 1 (userId u-0): field 'userId': expected a value "
        'not used before (row 0 has it), got "u-0"',
        loaded_once,
    ),  # fmt: skip
    Case(
        "export-employee-status",
        export("employees", rows(EMPLOYEE | {"status": "gone"})),
        "EmplyExportError: export 'employees' row 0 (employeeId e-0): field 'status': expected "
        '"active" or "pending" or "archived", got "gone"',
        loaded_once,
    ),  # fmt: skip
    Case(
        "export-admin-flag",
        export("roles", rows(ROLE | {"isAdministrator": "no"})),
        "EmplyExportError: export 'roles' row 0 (name Employee): field 'isAdministrator': expected "
        'true/false, got "no"',
        loaded_once,
    ),  # fmt: skip
    Case(
        "export-not-json",
        export("users", b"<html>Service Unavailable</html>"),
        "EmplyExportError: export 'users': Emply sent not JSON",
        loaded_once,
    ),
    Case(
        "export-without-data",
        export("roles", orjson.dumps({"exportId": "roles"})),
        "EmplyExportError: export 'roles': Emply sent a package without a 'data' list",
        loaded_once,
    ),
]

CASES = SETTINGS_CASES + FILE_AND_CLI_CASES + SCENARIO_CASES + EXPORT_CASES


def written(data: Path) -> dict[str, str]:
    """Every file under the data folder by content: DuckDB files by their tables' rows."""
    found = {}
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                tables = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
                content = repr([con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                                for t in tables])  # fmt: skip
        elif path.suffix == ".wal":
            continue  # DuckDB's own journal: the tables above say what it holds
        else:
            content = repr(path.read_bytes())
        found[str(path.relative_to(data))] = hashlib.sha256(content.encode()).hexdigest()
    return found


def test_the_catalogue_is_large_and_each_case_is_named_once():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_bad_input_is_refused_in_one_exact_line_and_writes_nothing(case, tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("ENTRASYNC_DATA_DIR", str(data))
    monkeypatch.delenv("ENTRASYNC_TENANTS_FILE", raising=False)
    if case.prepare:
        case.prepare(tmp_path)
    before = written(data)
    line = case.attempt(tmp_path)
    assert line == case.expected.format(tmp=tmp_path)
    assert "\n" not in line and "Traceback" not in line
    assert written(data) == before
