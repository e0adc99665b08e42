"""R1 and R2 given/expect: links, disputes and creations decided by the SQL rules."""

import json

from rule_fixtures import Given, emply_user, entra_user, tenant_settings

SETTINGS = tenant_settings({"Employee": "Employee"})


def kinds(changes):
    return sorted((c["kind"], c["subject"]) for c in changes)


def test_link_by_mail_trimmed_and_case_insensitive():
    given = Given().entra([entra_user("megan@contoso.com")], {"Employee": ["megan@contoso.com"]})
    given.emply(
        [emply_user("megan", email="  MEGAN@Contoso.com ", roles=["Employee"])], ["Employee"]
    )
    changes = given.plan(SETTINGS)
    assert kinds(changes) == [("link_user", "megan")]
    assert json.loads(changes[0]["after"]) == {
        "entra_object_id": "oid-megan@contoso.com",
        "how": "mail",
    }


def test_link_by_username_equal_to_upn():
    given = Given().entra(
        [entra_user("megan@contoso.com", mail="m.jordan@contoso.com")],
        {"Employee": ["megan@contoso.com"]},
    )
    given.emply(
        [emply_user(" Megan@contoso.com", email="other@x.com", roles=["Employee"])], ["Employee"]
    )
    changes = given.plan(SETTINGS)
    assert kinds(changes) == [("link_user", " Megan@contoso.com")]
    assert json.loads(changes[0]["after"])["how"] == "username"


def test_guest_links_by_other_mails_not_by_upn():
    guest = entra_user(
        "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com",
        mail=None,
        other_mails=["Ann@Fabrikam.com"],
        user_type="Guest",
    )
    given = Given().entra([guest], {"Employee": [guest["user_principal_name"]]})
    given.emply([emply_user("ann", email="ann@fabrikam.com", roles=["Employee"])], ["Employee"])
    changes = given.plan(SETTINGS)
    assert kinds(changes) == [("link_user", "ann")]
    assert json.loads(changes[0]["after"])["how"] == "other_mail"


def test_ambiguous_match_links_and_creates_nobody_and_queues_review():
    given = Given().entra(
        [entra_user("a@contoso.com", mail="shared@contoso.com"),
         entra_user("b@contoso.com", mail="shared@contoso.com")],
        {"Employee": ["a@contoso.com", "b@contoso.com"]},
    )  # fmt: skip
    given.emply([emply_user("shared", email="shared@contoso.com")], ["Employee"])
    changes = given.plan(SETTINGS)
    assert [c["kind"] for c in changes] == ["finding"]
    review = given.con.execute("SELECT subject, side, candidates FROM review_queue").fetchall()
    assert review == [("shared", "emply", ["a@contoso.com", "b@contoso.com"])]


def test_create_for_unmatched_in_scope_user_with_mapped_roles_and_employee():
    given = Given().entra(
        [entra_user("new@contoso.com", given_name="New", surname="Hire"),
         entra_user("outside@contoso.com")],
        {"Employee": ["new@contoso.com"], "Other": ["outside@contoso.com"]},
    )  # fmt: skip
    given.emply([emply_user("consultant@partner.example")], ["Employee"])
    given.employees([{"employee_id": "e1", "email": "NEW@contoso.com", "archived": False}])
    changes = given.plan(SETTINGS)
    assert kinds(changes) == [("create_user", "new@contoso.com")]
    after = json.loads(changes[0]["after"])
    assert after["username"] == "new@contoso.com"
    assert after["roles"] == ["Employee"]
    assert after["employee_id"] == "e1"
    assert (after["first_name"], after["last_name"]) == ("New", "Hire")


def test_disabled_user_is_not_created():
    given = Given().entra(
        [entra_user("off@contoso.com", account_enabled=False)], {"Employee": ["off@contoso.com"]}
    )
    given.emply([], ["Employee"])
    assert given.plan(SETTINGS) == []


def test_change_ids_are_stable_between_plans():
    given = Given().entra([entra_user("new@contoso.com")], {"Employee": ["new@contoso.com"]})
    given.emply([], ["Employee"])
    first = given.plan(SETTINGS)
    second = given.plan(SETTINGS)
    assert [c["change_id"] for c in first] == [c["change_id"] for c in second]
