"""R9 given/expect: calendars added and removed, events refreshed, Emply-made events pushed."""

import json

from rule_fixtures import (
    Given,
    calendar_window,
    calendars_read,
    emply_user,
    entra_user,
    given_rows,
    tenant_settings,
)

from entrasync.gate import validate_plan

SETTINGS = tenant_settings({"Employee": "Employee"}, sync_calendars=True)
MEGAN = "megan@contoso.com"
OID = f"oid-{MEGAN}"
UID = f"u-{MEGAN}"


def megan(**fields) -> Given:
    """Megan: linked, active, in scope, calendar sync on; her mailbox read this run."""
    given = Given().entra([entra_user(MEGAN)], {"Employee": [MEGAN]})
    given.emply(
        [emply_user(MEGAN, entra_object_id=OID, roles=["Employee"], **fields)], ["Employee"]
    )
    return calendars_read(calendar_window(given), OID)


def entra_calendar(calendar_id, name, can_edit=True, is_default=False, events_read=True):
    return {"entra_object_id": OID, "calendar_id": calendar_id, "name": name,
            "can_edit": can_edit, "is_default": is_default, "events_read": events_read}  # fmt: skip


def emply_calendar(calendar_id, name, entra_calendar_id, enabled=False, can_disable=True):
    return {"user_id": UID, "calendar_id": calendar_id, "name": name, "enabled": enabled,
            "can_disable": can_disable, "entra_calendar_id": entra_calendar_id}  # fmt: skip


def entra_event(event_id, subject, start, calendar_id="cal-default"):
    end = start.replace("T09", "T10")
    return {"entra_object_id": OID, "calendar_id": calendar_id, "event_id": event_id,
            "subject": subject, "start_at": start, "end_at": end}  # fmt: skip


def emply_event(event_id, subject, start, entra_event_id, source="entra", calendar_id="e-default"):
    return {"event_id": event_id, "user_id": UID, "calendar_id": calendar_id,
            "subject": subject, "start_at": start, "end_at": start.replace("T09", "T10"),
            "source": source, "entra_event_id": entra_event_id}  # fmt: skip


def of_kind(changes, kind):
    return [c for c in changes if c["kind"] == kind]


def test_editable_calendars_are_added_default_enabled_and_fixed_others_disabled():
    given = megan()
    given_rows(given, "entra_calendars", [
        entra_calendar("cal-default", "Calendar", is_default=True),
        entra_calendar("cal-team", "Team"),
        entra_calendar("cal-boss", "Boss", can_edit=False),
    ])  # fmt: skip
    added = {json.loads(c["after"])["name"]: json.loads(c["after"])
             for c in of_kind(given.plan(SETTINGS), "add_calendar")}  # fmt: skip
    assert added == {
        "Calendar": {"entra_calendar_id": "cal-default", "name": "Calendar", "enabled": True,
                     "can_disable": False},
        "Team": {"entra_calendar_id": "cal-team", "name": "Team", "enabled": False,
                 "can_disable": True},
    }  # fmt: skip


def test_a_calendar_already_in_emply_keeps_the_users_choice():
    given = megan()
    given_rows(given, "entra_calendars", [entra_calendar("cal-team", "Team", events_read=False)])
    given_rows(given, "emply_calendars", [emply_calendar("e-team", "Team", "cal-team", True)])
    assert given.plan(SETTINGS) == []


def test_a_calendar_gone_or_no_longer_editable_is_removed_emply_own_ones_stay():
    given = megan()
    given_rows(given, "entra_calendars", [entra_calendar("cal-ro", "Shared", can_edit=False)])
    given_rows(given, "emply_calendars", [
        emply_calendar("e-gone", "Old", "cal-gone"),
        emply_calendar("e-ro", "Shared", "cal-ro"),
        emply_calendar("e-own", "Made in Emply", None),
    ])  # fmt: skip
    removed = {json.loads(c["after"])["calendar_id"]: c["reason"]
               for c in of_kind(given.plan(SETTINGS), "remove_calendar")}  # fmt: skip
    assert set(removed) == {"e-gone", "e-ro"}
    assert "gone" in removed["e-gone"] and "no longer editable" in removed["e-ro"]


def test_calendar_sync_off_removes_every_synced_calendar():
    given = calendar_window(megan(), on=False)
    given_rows(given, "emply_calendars", [
        emply_calendar("e-default", "Calendar", "cal-default", True, False),
        emply_calendar("e-own", "Made in Emply", None),
    ])  # fmt: skip
    changes = given.plan(SETTINGS)
    assert [(c["kind"], json.loads(c["after"])["calendar_id"]) for c in changes] == [
        ("remove_calendar", "e-default")
    ]
    assert "switched off" in changes[0]["reason"]


def test_a_user_with_calendar_sync_off_loses_synced_calendars_an_unread_mailbox_keeps_them():
    given = megan(calendar_sync_enabled=False)
    given_rows(given, "emply_calendars", [emply_calendar("e-team", "Team", "cal-team")])
    (removal,) = given.plan(SETTINGS)
    assert removal["kind"] == "remove_calendar"
    assert "switched calendar sync off" in removal["reason"]

    unread = megan()
    given_rows(unread, "mailbox_reads", [])  # Graph answered 404: no mailbox
    given_rows(unread, "emply_calendars", [emply_calendar("e-team", "Team", "cal-team")])
    assert unread.plan(SETTINGS) == []


def test_events_of_an_enabled_calendar_are_set_when_they_differ_from_emply():
    given = megan()
    given_rows(given, "entra_calendars", [entra_calendar("cal-default", "Calendar", True, True)])
    given_rows(
        given,
        "emply_calendars",
        [emply_calendar("e-default", "Calendar", "cal-default", True, False)],
    )
    given_rows(given, "entra_events", [
        entra_event("ev-1", "Standup", "2030-01-02T09:00:00Z"),
        entra_event("ev-2", "Review", "2030-01-03T09:00:00Z"),
        entra_event("ev-pushed", "Appraisal", "2030-01-04T09:00:00Z"),
    ])  # fmt: skip
    given_rows(given, "emply_events", [
        emply_event("m-1", "Standup", "2030-01-02T09:00:00Z", "ev-1"),
        emply_event("m-2", "Appraisal", "2030-01-04T09:00:00Z", "ev-pushed", source="emply"),
    ])  # fmt: skip
    (change,) = given.plan(SETTINGS)
    after = json.loads(change["after"])
    assert change["kind"] == "set_events" and change["rule_id"] == "R9"
    assert (after["calendar_id"], after["from"], after["to"], after["count"]) == (
        "e-default",
        "2030-01-01T00:00:00Z",
        "2030-01-31T00:00:00Z",
        2,
    )
    assert "events" not in after  # the audit keeps the count and hash, not the subjects
    (events,) = given.con.execute(
        "SELECT events FROM planned_calendar_events WHERE change_id = ?", [change["change_id"]]
    ).fetchone()
    assert [e["entra_event_id"] for e in json.loads(events)] == ["ev-1", "ev-2"]  # not the copy
    assert json.loads(change["before"])["count"] == 1

    given_rows(given, "emply_events", [
        emply_event("m-1", "Standup", "2030-01-02T09:00:00Z", "ev-1"),
        emply_event("m-3", "Review", "2030-01-03T09:00:00Z", "ev-2"),
        emply_event("m-2", "Appraisal", "2030-01-04T09:00:00Z", "ev-pushed", source="emply"),
    ])  # fmt: skip
    assert given.plan(SETTINGS) == []


def test_a_disabled_calendar_gets_no_events_a_new_default_one_gets_them_at_once():
    given = megan()
    given_rows(given, "entra_calendars", [
        entra_calendar("cal-default", "Calendar", is_default=True),
        entra_calendar("cal-team", "Team"),
    ])  # fmt: skip
    given_rows(given, "emply_calendars", [emply_calendar("e-team", "Team", "cal-team", False)])
    given_rows(given, "entra_events", [
        entra_event("ev-1", "Standup", "2030-01-02T09:00:00Z"),
        entra_event("ev-t", "Team day", "2030-01-02T09:00:00Z", calendar_id="cal-team"),
    ])  # fmt: skip
    changes = given.plan(SETTINGS)
    (set_events,) = of_kind(changes, "set_events")
    after = json.loads(set_events["after"])
    assert after["calendar_id"] is None and after["entra_calendar_id"] == "cal-default"
    assert len(of_kind(changes, "add_calendar")) == 1
    assert validate_plan(given.con, "run-1", SETTINGS, allow_deactivations=False).success


def test_emply_made_events_of_enabled_calendars_are_created_in_entra_with_a_transaction_id():
    given = megan()
    given_rows(given, "entra_calendars", [
        entra_calendar("cal-default", "Calendar", is_default=True, events_read=False),
        entra_calendar("cal-team", "Team", events_read=False),
    ])  # fmt: skip
    given_rows(given, "emply_calendars", [
        emply_calendar("e-default", "Calendar", "cal-default", True, False),
        emply_calendar("e-team", "Team", "cal-team", False),
    ])  # fmt: skip
    outbox = [
        {"event_id": "m-1", "user_id": UID, "calendar_id": "e-default",
         "entra_calendar_id": "cal-default", "subject": "Appraisal",
         "start_at": "2031-05-01T09:00:00Z", "end_at": "2031-05-01T10:00:00Z"},
        {"event_id": "m-2", "user_id": UID, "calendar_id": "e-team",
         "entra_calendar_id": "cal-team", "subject": "Not pushed: calendar disabled",
         "start_at": "2031-05-01T09:00:00Z", "end_at": "2031-05-01T10:00:00Z"},
    ]  # fmt: skip
    given_rows(given, "emply_event_outbox", outbox)
    (change,) = given.plan(SETTINGS)
    after = json.loads(change["after"])
    assert change["kind"] == "create_entra_event" and change["entra_object_id"] == OID
    assert (after["event_id"], after["entra_calendar_id"], after["start"]) == (
        "m-1",
        "cal-default",
        "2031-05-01T09:00:00Z",
    )
    assert after["transaction_id"] == change["change_id"]
    assert given.plan(SETTINGS)[0]["change_id"] == change["change_id"]  # stable across runs


def test_out_of_scope_or_inactive_users_lose_their_synced_calendars():
    given = Given().entra([entra_user(MEGAN)], {"Employee": []})
    given.emply([emply_user(MEGAN, entra_object_id=OID)], ["Employee"])
    calendars_read(calendar_window(given), OID)
    given_rows(given, "emply_calendars", [emply_calendar("e-team", "Team", "cal-team")])
    changes = given.plan(SETTINGS)
    (removal,) = of_kind(changes, "remove_calendar")
    assert "out of scope" in removal["reason"]
    assert len(of_kind(changes, "deactivate_user")) == 1
