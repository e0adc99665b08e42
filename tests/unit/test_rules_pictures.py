"""R8 given/expect: the Entra photo goes to Emply only without a profile and only on change."""

import json

from rule_fixtures import Given, emply_user, entra_user, given_rows, tenant_settings

SETTINGS = tenant_settings({"Employee": "Employee"})
SHA_V1, SHA_V2 = "a" * 64, "b" * 64


def linked(username, **fields):
    return emply_user(username, entra_object_id=f"oid-{username}", roles=["Employee"], **fields)


def photo(username, sha, size=1234):
    return {"entra_object_id": f"oid-{username}", "media_etag": '"E1"',
            "content_type": "image/jpeg", "sha256": sha, "size_bytes": size}  # fmt: skip


def two_users(megan_photo_sha256: str | None = None) -> Given:
    """megan has no employee profile, sam has one; both have an Entra photo."""
    upns = ["megan@contoso.com", "sam@contoso.com"]
    given = Given().entra([entra_user(u) for u in upns], {"Employee": upns})
    megan = linked("megan@contoso.com", photo_sha256=megan_photo_sha256)
    given.emply([megan, linked("sam@contoso.com")], ["Employee"])
    given.employees([{"employee_id": "e-sam", "email": "sam@contoso.com",
                      "user_id": "u-sam@contoso.com", "archived": False}])  # fmt: skip
    return given


def test_photo_copied_only_for_users_without_an_employee_profile():
    given = two_users()
    given_rows(
        given,
        "entra_photos",
        [photo("megan@contoso.com", SHA_V1), photo("sam@contoso.com", SHA_V2)],
    )
    (change,) = given.plan(SETTINGS)
    assert (change["kind"], change["rule_id"], change["subject"]) == (
        "set_photo",
        "R8",
        "megan@contoso.com",
    )
    assert json.loads(change["after"]) == {
        "sha256": SHA_V1,
        "size_bytes": 1234,
        "content_type": "image/jpeg",
    }
    assert json.loads(change["before"]) == {"sha256": None}
    assert "no employee profile" in change["reason"]


def test_photo_not_copied_when_the_hash_is_what_emply_has_in_any_case():
    given = two_users(megan_photo_sha256=SHA_V1.upper())
    given_rows(given, "entra_photos", [photo("megan@contoso.com", SHA_V1)])
    assert given.plan(SETTINGS) == []


def test_a_changed_photo_is_copied_with_a_new_change_id():
    given = two_users(megan_photo_sha256=SHA_V1)
    given_rows(given, "entra_photos", [photo("megan@contoso.com", SHA_V2)])
    (first,) = given.plan(SETTINGS)
    given_rows(given, "entra_photos", [photo("megan@contoso.com", "c" * 64)])
    (second,) = given.plan(SETTINGS)
    assert first["change_id"] != second["change_id"]


def test_no_entra_photo_leaves_the_emply_picture_alone():
    given = two_users(megan_photo_sha256=SHA_V1)
    given_rows(given, "entra_photos", [photo("megan@contoso.com", None, None)])
    assert given.plan(SETTINGS) == []
