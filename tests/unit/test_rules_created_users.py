"""A user create_user makes gets its photo, calendars and write-back in the same plan."""

import json

from rule_fixtures import (
    Given,
    calendar_window,
    calendars_read,
    entra_user,
    given_rows,
    tenant_settings,
)

from entrasync.settings import WriteSwitches

SHA = "c" * 64
UPN = "nora@contoso.com"
OID = f"oid-{UPN}"


def new_user(**settings) -> tuple[Given, object]:
    """nora is in scope in Entra and has no Emply user: this plan creates her."""
    given = Given().entra(
        [
            entra_user(
                UPN, given_name="Nora", surname="Lind", display_name="Nora Lind", job_title="Chef"
            )
        ],  # fmt: skip
        {"Employee": [UPN]},
    )
    given.emply([], ["Employee"])
    return given, tenant_settings({"Employee": "Employee"}, **settings)


def calendar(name: str, *, can_edit: bool = True, is_default: bool = False) -> dict:
    return {"entra_object_id": OID, "calendar_id": f"cal-{name}", "name": name,
            "can_edit": can_edit, "is_default": is_default, "events_read": True}  # fmt: skip


def by_kind(changes: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for change in changes:
        grouped.setdefault(change["kind"], []).append(change)
    return grouped


def test_a_created_user_gets_its_photo_in_the_creating_plan():
    given, settings = new_user()
    given_rows(given, "entra_photos", [{"entra_object_id": OID, "media_etag": '"E"',
                                        "content_type": "image/png", "sha256": SHA,
                                        "size_bytes": 9}])  # fmt: skip
    kinds = by_kind(given.plan(settings))
    assert sorted(kinds) == ["create_user", "set_photo"]
    (photo,) = kinds["set_photo"]
    assert (photo["emply_user_id"], photo["entra_object_id"], photo["subject"]) == (None, OID, UPN)
    assert json.loads(photo["after"])["sha256"] == SHA
    assert "once create_user has made the user" in photo["reason"]


def test_a_created_user_created_for_an_employee_gets_no_photo():
    given, settings = new_user()
    given.employees([{"employee_id": "e-nora", "email": UPN, "user_id": None,
                      "archived": False}])  # fmt: skip
    given_rows(given, "entra_photos", [{"entra_object_id": OID, "media_etag": '"E"',
                                        "content_type": "image/png", "sha256": SHA,
                                        "size_bytes": 9}])  # fmt: skip
    assert sorted(by_kind(given.plan(settings))) == ["create_user"]


def test_a_created_user_gets_every_editable_calendar_and_the_default_ones_events():
    given, settings = new_user(sync_calendars=True)
    calendar_window(given)
    calendars_read(given, OID)
    given_rows(
        given,
        "entra_calendars",
        [calendar("Calendar", is_default=True), calendar("Team"),
         calendar("Holidays", can_edit=False)],
    )  # fmt: skip
    given_rows(given, "entra_events", [{"entra_object_id": OID, "calendar_id": "cal-Calendar",
                                        "event_id": "ev1", "subject": "Standup",
                                        "start_at": "2030-01-02T09:00:00Z",
                                        "end_at": "2030-01-02T09:15:00Z"}])  # fmt: skip
    kinds = by_kind(given.plan(settings))
    assert sorted(kinds) == ["add_calendar", "create_user", "set_events"]
    added = {json.loads(c["after"])["name"]: json.loads(c["after"]) for c in kinds["add_calendar"]}
    assert {name: (a["enabled"], a["can_disable"]) for name, a in added.items()} == {
        "Calendar": (True, False),
        "Team": (False, True),
    }
    (events,) = kinds["set_events"]
    after = json.loads(events["after"])
    assert (after["entra_calendar_id"], after["calendar_id"], after["count"]) == (
        "cal-Calendar",
        None,
        1,
    )
    assert all(c["emply_user_id"] is None for c in kinds["add_calendar"] + kinds["set_events"])


def test_a_user_created_for_an_employee_gets_its_master_data_written_back():
    given, settings = new_user(write=WriteSwitches(update=True))
    given.employees([{"employee_id": "e-nora", "email": UPN, "user_id": None, "archived": False,
                      "first_name": "Nora", "last_name": "Lind",
                      "job_title": "Head chef"}])  # fmt: skip
    kinds = by_kind(given.plan(settings))
    assert sorted(kinds) == ["create_user", "update_entra_user"]
    (update,) = kinds["update_entra_user"]
    assert json.loads(update["after"]) == {"jobTitle": "Head chef"}
    assert update["entra_object_id"] == OID
