"""R7 given/expect: master data written back, Emply users created and deleted in Entra."""

import json

import pytest
from rule_fixtures import Given, emply_user, entra_user, tenant_settings

from entrasync.gate import validate_plan
from entrasync.settings import WriteSwitches

GROUPS = {"Employee": "Employee", "HR": "HR"}
UPDATE = tenant_settings(GROUPS, write=WriteSwitches(update=True))
CREATE = tenant_settings(GROUPS, write=WriteSwitches(create=True))
DELETE = tenant_settings(GROUPS, write=WriteSwitches(delete=True))
MEGAN = "megan@contoso.com"


def by_kind(changes):
    return {c["kind"]: c for c in changes}


def profile(email, **fields):
    return {"employee_id": f"e-{email}", "email": email, "user_id": f"u-{email}",
            "archived": fields.pop("archived", False), **fields}  # fmt: skip


def megan_with_profile(entra_fields=None, **employee) -> Given:
    given = Given().entra([entra_user(MEGAN, **(entra_fields or {}))], {"Employee": [MEGAN]})
    given.emply([emply_user(MEGAN, entra_object_id=f"oid-{MEGAN}", roles=["Employee"])],
                ["Employee", "HR"])  # fmt: skip
    return given.employees([profile(MEGAN, **employee)])


ENTRA_NOW = {"given_name": "Megan", "surname": "Jordan", "display_name": "Megan Jordan",
             "job_title": "Analyst", "department": "Sales", "mobile_phone": "+45 1111"}  # fmt: skip


def test_one_update_carries_every_differing_attribute_and_only_those():
    given = megan_with_profile(ENTRA_NOW, first_name="Megan", last_name="Bowen",
                               job_title="Analyst", department="Marketing",
                               mobile_phone=" +45 1111 ")  # fmt: skip
    (change,) = given.plan(UPDATE)
    assert (change["kind"], change["rule_id"], change["subject"]) == (
        "update_entra_user",
        "R7",
        MEGAN,
    )
    assert json.loads(change["after"]) == {
        "department": "Marketing",
        "displayName": "Megan Bowen",
        "surname": "Bowen",
    }
    assert json.loads(change["before"]) == {
        "department": "Sales",
        "displayName": "Megan Jordan",
        "surname": "Jordan",
    }
    assert "department, displayName, surname" in change["reason"]


def test_an_empty_emply_value_clears_entra_but_never_the_display_name():
    given = megan_with_profile(ENTRA_NOW, job_title="Analyst", department="Sales",
                               mobile_phone="+45 1111")  # fmt: skip
    (change,) = given.plan(UPDATE)
    assert json.loads(change["after"]) == {"givenName": None, "surname": None}


def test_no_update_when_off_when_equal_or_when_the_employee_is_archived():
    same = dict(first_name="Megan", last_name="Jordan", job_title="Analyst",
                department="Sales", mobile_phone="+45 1111")  # fmt: skip
    assert megan_with_profile(ENTRA_NOW, **same).plan(UPDATE) == []
    changed = {**same, "job_title": "Boss"}
    assert megan_with_profile(ENTRA_NOW, **changed).plan(tenant_settings(GROUPS)) == []
    archived = megan_with_profile(ENTRA_NOW, archived=True, **changed)
    assert "update_entra_user" not in by_kind(archived.plan(UPDATE))


def test_an_on_premises_user_is_not_written_a_finding_says_so():
    entra = {**ENTRA_NOW, "on_premises_sync_enabled": True}
    given = megan_with_profile(entra, first_name="Megan", last_name="Jordan", job_title="Boss",
                               department="Sales", mobile_phone="+45 1111")  # fmt: skip
    (finding,) = given.plan(UPDATE)
    assert (finding["kind"], finding["rule_id"]) == ("finding", "R7")
    assert "onPremisesSyncEnabled" in finding["reason"]


def creation_given(email="nestor@contoso.com", roles=("HR",), **fields) -> Given:
    given = Given().entra([entra_user(MEGAN)], {"Employee": [MEGAN], "HR": []})
    return given.emply(
        [emply_user(MEGAN, entra_object_id=f"oid-{MEGAN}", roles=["Employee"]),
         emply_user(email, roles=list(roles), first_name="Nestor", last_name="Wilke",
                    **fields)],
        ["Employee", "HR"],
    )  # fmt: skip


def test_an_unlinked_user_in_a_verified_domain_is_created_and_added_to_its_roles_groups():
    given = creation_given(email="Nestor@Contoso.com", roles=("HR", "Employee"))
    changes = given.plan(CREATE)
    create = by_kind(changes)["create_entra_user"]
    after = json.loads(create["after"])
    assert (after["userPrincipalName"], after["mailNickname"], after["displayName"]) == (
        "nestor@contoso.com",
        "nestor",
        "Nestor Wilke",
    )
    assert after["groups"] == ["Employee", "HR"]
    assert "password" not in json.dumps(after).lower()
    members = sorted(json.loads(c["after"])["group"] for c in changes
                     if c["kind"] == "add_entra_group_member")  # fmt: skip
    assert members == ["Employee", "HR"]
    assert validate_plan(given.con, "run-1", CREATE, allow_deactivations=False).success


def test_no_creation_outside_the_domains_when_inactive_or_when_write_create_is_off():
    assert creation_given(email="consultant@partner.example").plan(CREATE) == []
    assert creation_given(active=False).plan(CREATE) == []
    assert creation_given().plan(tenant_settings(GROUPS)) == []


def test_a_user_whose_roles_map_to_no_group_or_whose_name_is_taken_gets_a_finding():
    unmapped = creation_given(roles=("Consultant",)).plan(CREATE)
    assert [c["kind"] for c in unmapped] == ["finding"]
    assert "maps to a connected group" in unmapped[0]["reason"]

    taken = creation_given()
    taken.entra(
        [entra_user(MEGAN), entra_user("nestor@contoso.com")], {"Employee": [MEGAN], "HR": []}
    )
    (finding,) = taken.plan(CREATE)
    assert "exists" in finding["reason"] and "not in scope" in finding["reason"]


def test_a_create_that_made_the_entra_user_before_resumes_instead_of_a_finding():
    given = creation_given()
    given.entra([entra_user(MEGAN), entra_user("nestor@contoso.com", id="oid-new")],
                {"Employee": [MEGAN], "HR": []})  # fmt: skip
    given.con.execute(
        "INSERT INTO changes (run_id, change_id, kind, rule_id, emply_user_id, subject, reason,"
        " outcome, result, decided_at) VALUES ('run-0', 'c0', 'create_entra_user', 'R7',"
        " 'u-nestor@contoso.com', 'nestor@contoso.com', 'given', 'failed',"
        ' \'{"entra_object_id": "oid-new"}\', now())'
    )
    changes = by_kind(given.plan(CREATE))
    assert changes["create_entra_user"]["entra_object_id"] == "oid-new"
    assert "finding" not in changes


def test_deleted_emply_users_and_archived_employees_have_their_entra_user_deleted():
    given = megan_with_profile(archived=True)
    given.entra([entra_user(MEGAN), entra_user("gone@contoso.com")],
                {"Employee": [MEGAN, "gone@contoso.com"]})  # fmt: skip
    given.con.execute(
        "INSERT INTO links (emply_user_id, entra_object_id, how, username)"
        " VALUES ('u-gone', 'oid-gone@contoso.com', 'username', 'gone@contoso.com')"
    )
    deletes = {c["subject"]: c for c in given.plan(DELETE) if c["kind"] == "delete_entra_user"}
    assert set(deletes) == {MEGAN, "gone@contoso.com"}
    assert "archived" in deletes[MEGAN]["reason"]
    assert "Emply user was deleted" in deletes["gone@contoso.com"]["reason"]
    assert json.loads(deletes[MEGAN]["after"]) == {"deleted": True}
    assert validate_plan(given.con, "run-1", DELETE, allow_deactivations=False).success


def test_no_delete_once_gone_from_entra_or_for_on_premises_users():
    gone = megan_with_profile(archived=True)
    gone.entra([], {"Employee": []})
    assert "delete_entra_user" not in by_kind(gone.plan(DELETE))
    on_premises = megan_with_profile({"on_premises_sync_enabled": True}, archived=True)
    (finding,) = on_premises.plan(DELETE)
    assert finding["kind"] == "finding" and "delete" in finding["reason"]


@pytest.mark.parametrize(
    ("synced", "written"), [(None, True), (False, True), (True, False)]
)  # Graph answers null for a user never synced from on-premises: that is a cloud user
def test_write_back_reads_null_on_premises_sync_enabled_as_cloud_only(synced, written):
    entra = {**ENTRA_NOW, "on_premises_sync_enabled": synced}
    given = megan_with_profile(entra, first_name="Megan", last_name="Jordan", job_title="Boss",
                               department="Sales", mobile_phone="+45 1111")  # fmt: skip
    assert ("update_entra_user" in by_kind(given.plan(UPDATE))) is written
    deleted = megan_with_profile({"on_premises_sync_enabled": synced}, archived=True)
    kinds = by_kind(deleted.plan(DELETE))
    assert ("delete_entra_user" in kinds) is written
    assert ("finding" in kinds) is not written  # never sent, said instead


def test_hybrid_tenants_plan_no_entra_writes():
    hybrid = tenant_settings(GROUPS, hybrid=True)
    given = megan_with_profile(ENTRA_NOW, archived=True, job_title="Boss")
    assert not [c for c in given.plan(hybrid) if "entra" in c["kind"]]
