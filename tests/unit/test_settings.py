"""Tenants file checks: each mistake is one line naming the file and the key."""

import pytest
import yaml

from entrasync.errors import SettingsError, TenantSettingsError
from entrasync.settings import load_tenant, load_tenants
from entrasync.tenants_file import read_tenants_file

GOOD = {
    "name": "acme",
    "tenant_id": "t1",
    "client_id": "c1",
    "credential": {"env": "ACME_SECRET"},
    "domains": ["Acme.com "],
    "groups": [{"group": "Employees", "role": "Employee"}],
    "emply": {"customer": "acme", "api_key": {"env": "ACME_KEY"}},
}


def write(tmp_path, *tenants):
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"tenants": list(tenants)}))
    return path


def error_of(tmp_path, *tenants) -> str:
    path = write(tmp_path, *tenants)
    with pytest.raises(SettingsError) as caught:
        load_tenants(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


def test_good_file_with_defaults(tmp_path):
    tenant = load_tenant(write(tmp_path, GOOD), "acme")
    assert tenant.domains == ("acme.com",)
    assert tenant.sync_roles and not tenant.hybrid and tenant.max_deactivations == 500
    assert tenant.max_deactivation_percent == 20
    assert tenant.emply.exports["users"] == "users"


def test_unknown_key_is_named(tmp_path):
    message = error_of(tmp_path, GOOD | {"sync_role": True})
    assert "tenants[0].sync_role: unknown key" in message


def test_missing_key_is_named(tmp_path):
    bad = {k: v for k, v in GOOD.items() if k != "client_id"}
    assert "tenants[0].client_id: missing" in error_of(tmp_path, bad)


def test_wrong_type_is_named_with_expectation(tmp_path):
    bad = GOOD | {"groups": [{"group": "Employees", "role": 3}]}
    message = error_of(tmp_path, bad)
    assert "tenants[0].groups[0].role: expected text, got int 3" in message


def test_flag_must_be_boolean(tmp_path):
    message = error_of(tmp_path, GOOD | {"sync_roles": "yes"})
    assert "tenants[0].sync_roles: expected true or false" in message


def test_hybrid_with_write_is_rejected(tmp_path):
    message = error_of(tmp_path, GOOD | {"hybrid": True, "write": {"update": True}})
    assert "tenants[0].hybrid" in message and "write.update" in message


def test_inline_secret_is_rejected(tmp_path):
    message = error_of(tmp_path, GOOD | {"credential": {"secret": "hunter2"}})
    assert "tenants[0].credential.secret: unknown key" in message


def test_second_entra_tenant_for_one_platform_fails_both_entries_naming_each_other(tmp_path):
    other = GOOD | {"name": "acme-2", "tenant_id": "t2"}
    third = GOOD | {"name": "beta", "emply": {"customer": "beta", "api_key": {"env": "K"}}}
    path = write(tmp_path, GOOD, other, third)
    read = read_tenants_file(path)
    assert [t.name for t in read.tenants] == ["beta"]
    assert [(e.index, e.name) for e in read.invalid] == [(0, "acme"), (1, "acme-2")]
    assert read.invalid[0].reason == (
        f"{path}: tenants[0].tenant_id: Emply platform 'acme' is also synced by tenants[1] "
        "(Entra tenant 't2'); one platform has exactly one Entra tenant"
    )
    assert read.invalid[1].reason == (
        f"{path}: tenants[1].tenant_id: Emply platform 'acme' is also synced by tenants[0] "
        "(Entra tenant 't1'); one platform has exactly one Entra tenant"
    )


def test_a_name_used_twice_fails_both_entries(tmp_path):
    twin = GOOD | {"tenant_id": "t1", "client_id": "c2"}
    path = write(tmp_path, GOOD, twin)
    read = read_tenants_file(path)
    assert read.tenants == ()
    assert [e.reason for e in read.invalid] == [
        f"{path}: tenants[0].name: 'acme' is also the name of tenants[1]; a tenant has one entry",
        f"{path}: tenants[1].name: 'acme' is also the name of tenants[0]; a tenant has one entry",
    ]
    with pytest.raises(TenantSettingsError) as caught:
        load_tenant(path, "acme")
    assert caught.value.tenant == "acme" and "tenants[0].name" in str(caught.value)


def test_one_bad_entry_never_stops_the_others(tmp_path):
    broken = GOOD | {"name": "broken", "hybrid": True, "write": {"update": True},
                     "emply": {"customer": "broken", "api_key": {"env": "K"}}}  # fmt: skip
    nameless = {"tenant_id": "t9"}
    switched_off = {"name": "off", "enabled": False, "max_deactivations": 2.9}
    path = write(tmp_path, broken, GOOD, nameless, switched_off)
    read = read_tenants_file(path)
    assert [t.name for t in read.tenants] == ["acme"]
    assert [(e.label, e.name, e.enabled) for e in read.invalid] == [
        ("broken", "broken", True), ("tenants[2]", None, True), ("off", "off", False)]  # fmt: skip
    assert read.invalid[1].reason == f"{path}: tenants[2].name: missing (expected text)"
    assert load_tenant(path, "acme").name == "acme"  # `entrasync sync --tenant acme` runs
    with pytest.raises(TenantSettingsError, match=r"tenants\[0\]\.hybrid: hybrid tenants"):
        load_tenant(path, "broken")
    with pytest.raises(SettingsError, match="no tenant named 'nobody'") as caught:
        load_tenant(path, "nobody")
    assert not isinstance(caught.value, TenantSettingsError)
    with pytest.raises(SettingsError, match=r"tenants\[0\]\.hybrid"):
        load_tenants(path)  # the demo and benchmarks want a wholly valid file


@pytest.mark.parametrize(
    ("change", "key", "expected", "got"),
    [
        ({"max_deactivation_percent": float("nan")}, "max_deactivation_percent",
         "a number from 0 to 100", "float nan"),
        ({"max_deactivation_percent": 5000}, "max_deactivation_percent",
         "a number from 0 to 100", "int 5000"),
        ({"max_deactivation_percent": True}, "max_deactivation_percent",
         "a number from 0 to 100", "bool True"),
        ({"max_deactivations": 2.9}, "max_deactivations", "an integer >= 0", "float 2.9"),
        ({"max_deactivations": float("inf")}, "max_deactivations", "an integer >= 0", "float inf"),
        ({"calendar_window_days": 0}, "calendar_window_days", "an integer from 1 to 366", "int 0"),
        ({"groups": []}, "groups", "a non-empty list of {group, role}", "an empty list"),
        ({"domains": []}, "domains", "a non-empty list of text", "an empty list"),
        ({"domains": ["not a domain"]}, "domains[0]", "a domain name such as contoso.com",
         "str 'not a domain'"),
        ({"retry_after_cap_seconds": 0}, "retry_after_cap_seconds", "a number from 1 to 3600",
         "int 0"),
        ({"run_deadline_minutes": float("inf")}, "run_deadline_minutes",
         "a number from 1 to 1440", "float inf"),
    ],
)  # fmt: skip
def test_values_out_of_range_or_of_the_wrong_kind_are_refused(tmp_path, change, key, expected, got):
    path = write(tmp_path, GOOD | change)
    assert error_of(tmp_path, GOOD | change) == (
        f"{path}: tenants[0].{key}: expected {expected}, got {got}"
    )


def test_bounds_and_new_settings_load(tmp_path):
    edges = {"max_deactivation_percent": 100, "max_deactivations": 0, "calendar_window_days": 366,
             "retry_after_cap_seconds": 2.5, "run_deadline_minutes": 10}  # fmt: skip
    tenant = load_tenant(write(tmp_path, GOOD | edges), "acme")
    assert (tenant.max_deactivation_percent, tenant.max_deactivations) == (100.0, 0)
    assert (tenant.retry_after_cap_s, tenant.run_deadline_minutes) == (2.5, 10.0)
    defaults = load_tenant(write(tmp_path, GOOD), "acme")
    assert (defaults.retry_after_cap_s, defaults.run_deadline_minutes) == (120, 25)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"tenants: [\n", "not valid YAML (line 2: expected the node content, but found "
                          "'<stream end>')"),
        (b"\xff\xfe tenants", "not UTF-8 text (byte 0xff at offset 0)"),
        (b"", "not a tenants file (expected a mapping with a `tenants` list, got nothing)"),
        (b"- name: acme\n", "not a tenants file (expected a mapping with a `tenants` list, "
                             "got a list)"),
        (b"name: acme\n", "not a tenants file (expected a mapping with a `tenants` list, "
                           "got a mapping)"),
        (b"tenants: {name: acme}\n", "tenants: expected a list of tenants, got a mapping"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_tenants_file_is_refused_whole_in_one_line(tmp_path, content, problem):
    path = tmp_path / "tenants.yaml"
    path.write_bytes(content)
    with pytest.raises(SettingsError) as caught:
        read_tenants_file(path)
    assert str(caught.value) == f"{path}: {problem}"


def test_a_directory_or_a_missing_file_is_refused_in_one_line(tmp_path):
    with pytest.raises(SettingsError) as caught:
        read_tenants_file(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, expected a tenants file"
    with pytest.raises(SettingsError, match="nowhere.yaml: file not found$"):
        read_tenants_file(tmp_path / "nowhere.yaml")


def test_credential_resolves_from_environment_only(tmp_path, monkeypatch):
    tenant = load_tenant(write(tmp_path, GOOD), "acme")
    with pytest.raises(SettingsError, match="ACME_SECRET is not set"):
        tenant.credential.resolve()
    monkeypatch.setenv("ACME_SECRET", "s3cret")
    assert tenant.credential.resolve() == "s3cret"
    assert "s3cret" not in repr(tenant)


def test_photo_checks_per_run_defaults_and_accepts_zero(tmp_path):
    assert load_tenant(write(tmp_path, GOOD), "acme").photo_checks_per_run == 2000
    zero = load_tenant(write(tmp_path, GOOD | {"photo_checks_per_run": 0}), "acme")
    assert zero.photo_checks_per_run == 0


@pytest.mark.parametrize("value", [-1, 2.5, "100", True])
def test_photo_checks_per_run_must_be_a_whole_number_not_below_zero(tmp_path, value):
    message = error_of(tmp_path, GOOD | {"photo_checks_per_run": value})
    assert "tenants[0].photo_checks_per_run: expected an integer >= 0" in message


@pytest.mark.parametrize(
    "name",
    ["Nordic_EU", "nordic eu", "Acme", "../warehouse/other", "a/b", "-acme", "acme-", "", "x" * 64,
     "/abs/path", "acme.eu"],
)  # fmt: skip
def test_tenant_name_must_be_a_dns_label(tmp_path, name):
    message = error_of(tmp_path, GOOD | {"name": name})
    assert "tenants[0].name" in message
    assert "DNS label" in message or "expected text" in message


@pytest.mark.parametrize("name", ["a", "acme", "nordic-eu", "t1", "x" * 63, "0-9"])
def test_dns_label_tenant_names_load(tmp_path, name):
    assert load_tenant(write(tmp_path, GOOD | {"name": name}), name).name == name
