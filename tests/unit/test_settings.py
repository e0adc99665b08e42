"""Tenants file checks: each mistake is one line naming the file and the key."""

import pytest
import yaml

from entrasync.errors import SettingsError
from entrasync.settings import load_tenant, load_tenants

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


def test_second_entra_tenant_for_one_platform_is_rejected(tmp_path):
    other = GOOD | {"name": "acme-2", "tenant_id": "t2"}
    message = error_of(tmp_path, GOOD, other)
    assert (
        "tenants[1].tenant_id" in message and "one platform has exactly one Entra tenant" in message
    )


def test_broken_yaml_names_the_file(tmp_path):
    path = tmp_path / "tenants.yaml"
    path.write_text("tenants: [\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_tenants(path)


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
