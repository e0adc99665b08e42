"""The scenario runner's counts-vs-state check, on given before/after views (no emulators)."""

from __future__ import annotations

from entrasync.scenario.applied import Sides, check_applied
from entrasync.scenario.report import miss_line

SHA = "ab" * 32


def emply(user_id: str = "u1", **fields) -> dict:
    return {"exists": True, "deleted": False, "user_id": user_id, "username": "nora@contoso.com",
            "active": True, "roles": ["Employee"], "entra_object_id": "oid-1",
            "photo_sha256": None, "calendars": {}, **fields}  # fmt: skip


def entra(object_id: str = "oid-1", **fields) -> dict:
    return {"exists": True, "deleted": False, "id": object_id,
            "userPrincipalName": "nora@contoso.com", "groups": ["Employee"],
            "displayName": "Nora Lind", "calendars": {}, **fields}  # fmt: skip


def change(kind: str, after: dict, emply_user_id="u1", entra_object_id="oid-1", result=None):
    return {"kind": kind, "subject": "nora@contoso.com", "emply_user_id": emply_user_id,
            "entra_object_id": entra_object_id, "before": None, "after": after,
            "result": result}  # fmt: skip


def lines(changes, emply_before, emply_after, entra_before=None, entra_after=None) -> list[str]:
    entra_before = entra_before or {"oid-1": entra()}
    sides = Sides(emply_before, emply_after, entra_before, entra_after or entra_before)
    outcome = check_applied(changes, sides)
    return [miss_line("s", "step 2 sync", miss) for miss in outcome.misses]


def test_a_photo_counted_applied_but_not_in_emply_is_a_miss():
    photo = change("set_photo", {"sha256": SHA, "size_bytes": 3, "content_type": "image/png"})
    assert lines([photo], {"u1": emply()}, {"u1": emply()}) == [
        "FAIL s · step 2 sync · applied set_photo nora@contoso.com: photo_sha256: "
        f"expected '{SHA}', got null"
    ]
    assert lines([photo], {"u1": emply()}, {"u1": emply(photo_sha256=SHA.upper())}) == []


def test_a_change_in_emply_without_an_applied_change_is_a_miss():
    assert lines([], {"u1": emply()}, {"u1": emply(roles=["Employee", "HR"])}) == [
        "FAIL s · step 2 sync · emply user nora@contoso.com changed roles with no applied "
        "set_roles or create_user: expected ['Employee'], got ['Employee', 'HR']"
    ]


def test_a_created_user_is_found_by_the_id_its_create_returned():
    create = change("create_user", {"username": "nora@contoso.com", "roles": ["Employee"],
                                    "entra_object_id": "oid-1"},
                    emply_user_id=None, result={"user_id": "u9"})  # fmt: skip
    calendar = change(
        "add_calendar",
        {"entra_calendar_id": "c1", "name": "Team", "enabled": False, "can_disable": True},
        emply_user_id="u9",
    )
    created = emply(
        "u9",
        calendars={"Team": {"enabled": False, "can_disable": True, "id": "e1",
                            "entra_calendar_id": "c1", "events": []}},
    )  # fmt: skip
    assert lines([create, calendar], {}, {"u9": created}) == []
    assert lines([create], {}, {}) == [
        "FAIL s · step 2 sync · applied create_user nora@contoso.com: exists: expected true, "
        "got false",
        "FAIL s · step 2 sync · applied create_user nora@contoso.com: username: "
        "expected 'nora@contoso.com', got <absent>",
        "FAIL s · step 2 sync · applied create_user nora@contoso.com: entra_object_id: "
        "expected 'oid-1', got <absent>",
        "FAIL s · step 2 sync · applied create_user nora@contoso.com: roles: "
        "expected {'Employee'}, got <absent>",
    ]


def test_an_entra_user_created_and_added_to_its_group_is_checked_on_both_sides():
    create = change("create_entra_user",
                    {"userPrincipalName": "nestor@contoso.com", "displayName": "Nestor Wilke",
                     "jobTitle": None},
                    entra_object_id=None, emply_user_id="u2",
                    result={"entra_object_id": "oid-2"})  # fmt: skip
    member = change("add_entra_group_member", {"group_id": "g", "group": "HR"},
                    entra_object_id=None, emply_user_id="u2",
                    result={"entra_object_id": "oid-2"})  # fmt: skip
    nestor_before = emply("u2", username="nestor@contoso.com", entra_object_id=None)
    nestor_after = emply("u2", username="nestor@contoso.com", entra_object_id="oid-2")
    made = entra("oid-2", userPrincipalName="nestor@contoso.com", displayName="Nestor Wilke",
                 groups=["HR"])  # fmt: skip
    assert lines([create, member], {"u2": nestor_before}, {"u2": nestor_after},
                 {"oid-1": entra()}, {"oid-1": entra(), "oid-2": made}) == []  # fmt: skip
    not_in_group = {**made, "groups": []}
    assert lines([create, member], {"u2": nestor_before}, {"u2": nestor_after},
                 {"oid-1": entra()}, {"oid-1": entra(), "oid-2": not_in_group}) == [
        "FAIL s · step 2 sync · applied add_entra_group_member nora@contoso.com: "
        "member of 'HR': expected true, got false"
    ]  # fmt: skip


def test_deleting_an_entra_user_without_an_applied_change_is_a_miss():
    gone = entra(exists=False, deleted=True)
    assert lines([], {}, {}, {"oid-1": entra()}, {"oid-1": gone}) == [
        "FAIL s · step 2 sync · entra user nora@contoso.com changed exists with no applied "
        "create_entra_user or delete_entra_user: expected true, got false"
    ]
    delete = change("delete_entra_user", {"deleted": True})
    assert lines([delete], {}, {}, {"oid-1": entra()}, {"oid-1": gone}) == []


def test_events_counted_set_must_be_the_synced_events_in_the_window():
    events = [{"event_id": "e", "source": "entra", "entra_event_id": "x",
               "start": "2030-01-02T09:00:00Z", "end": "2030-01-02T10:00:00Z"},
              {"event_id": "f", "source": "emply", "entra_event_id": None,
               "start": "2030-01-03T09:00:00Z", "end": "2030-01-03T10:00:00Z"}]  # fmt: skip
    calendar = {"Calendar": {"enabled": True, "can_disable": False, "id": "e1",
                             "entra_calendar_id": "c1", "events": events}}  # fmt: skip
    after = {"calendar_id": "e1", "entra_calendar_id": "c1", "name": "Calendar", "count": 1,
             "from": "2030-01-01T00:00:00Z", "to": "2030-01-31T00:00:00Z"}  # fmt: skip
    both = {"u1": emply(calendars=calendar)}
    assert lines([change("set_events", after)], both, both) == []
    assert lines([change("set_events", {**after, "count": 2})], both, both) == [
        "FAIL s · step 2 sync · applied set_events nora@contoso.com: events of 'Calendar' in "
        "the window: expected 2, got 1"
    ]


def test_what_a_deleted_entra_user_held_goes_with_it_unremarked():
    gone = entra(exists=False, deleted=True, groups=[])
    delete = change("delete_entra_user", {"deleted": True})
    assert lines([delete], {}, {}, {"oid-1": entra()}, {"oid-1": gone}) == []
