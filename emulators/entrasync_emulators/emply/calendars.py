"""Users' calendars and their events: synced in from Entra, or made in Emply and pushed out."""

from dataclasses import dataclass
from datetime import datetime

from entrasync_emulators.emply.errors import bad_request, conflict, not_found
from entrasync_emulators.emply.models import Calendar, Event, User
from entrasync_emulators.emply.state import CustomerState, fold, new_id


@dataclass
class SyncedEvent:
    """One event of a PUT .../events body, already checked."""

    entra_event_id: str
    subject: str
    start: str
    end: str
    starts_at: datetime
    ends_at: datetime


def add_calendar(
    state: CustomerState,
    user: User,
    name: str,
    entra_calendar_id: str | None,
    enabled: bool,
    can_disable: bool,
) -> Calendar:
    for calendar in user.calendars.values():
        if fold(calendar.name) == fold(name):
            raise conflict(f"user {user.username!r} already has a calendar named {name!r}")
        if entra_calendar_id and calendar.entra_calendar_id == entra_calendar_id:
            raise conflict(f"entraCalendarId {entra_calendar_id!r} is already a calendar")
    calendar = Calendar(new_id(), user.user_id, name, enabled, can_disable, entra_calendar_id)
    user.calendars[calendar.calendar_id] = calendar
    state.event_ids_by_calendar[calendar.calendar_id] = set()
    return calendar


def calendar_by_id(user: User, calendar_id: str) -> Calendar:
    calendar = user.calendars.get(calendar_id)
    if calendar is None:
        raise not_found(f"calendar {calendar_id!r} not found for user {user.user_id!r}")
    return calendar


def calendar_by_name(user: User, name: str) -> Calendar:
    for calendar in user.calendars.values():
        if fold(calendar.name) == fold(name):
            return calendar
    raise not_found(f"user {user.username!r} has no calendar {name!r}")


def remove_calendar(state: CustomerState, user: User, calendar: Calendar) -> None:
    for event_id in state.event_ids_by_calendar.pop(calendar.calendar_id, set()):
        state.events.pop(event_id, None)
        state.emply_event_ids.discard(event_id)
    del user.calendars[calendar.calendar_id]


def set_enabled(calendar: Calendar, enabled: bool) -> None:
    if not enabled and not calendar.can_disable:
        raise bad_request(f"calendar {calendar.name!r} cannot be disabled")
    calendar.enabled = enabled


def _store(state: CustomerState, event: Event) -> Event:
    state.events[event.event_id] = event
    state.event_ids_by_calendar[event.calendar_id].add(event.event_id)
    if event.source == "emply":
        state.emply_event_ids.add(event.event_id)
    return event


def _drop(state: CustomerState, event: Event) -> None:
    del state.events[event.event_id]
    state.event_ids_by_calendar[event.calendar_id].discard(event.event_id)


def add_emply_event(
    state: CustomerState,
    calendar: Calendar,
    subject: str,
    times: tuple[str, str, datetime, datetime],
) -> Event:
    """An event made in Emply: it waits in the outbox until the sync pushes it."""
    start, end, starts_at, ends_at = times
    event = Event(
        new_id(),
        calendar.user_id,
        calendar.calendar_id,
        subject,
        start,
        end,
        starts_at,
        ends_at,
        source="emply",
    )
    return _store(state, event)


def calendar_events(state: CustomerState, calendar: Calendar) -> list[Event]:
    events = (state.events[i] for i in state.event_ids_by_calendar[calendar.calendar_id])
    return sorted(events, key=lambda e: (e.starts_at, e.subject))


def event_in_window(event: Event, window_from: datetime, window_to: datetime) -> bool:
    if event.starts_at >= window_to:
        return False
    return event.ends_at > window_from or event.starts_at >= window_from


def replace_synced_events(
    state: CustomerState,
    calendar: Calendar,
    window: tuple[datetime, datetime],
    incoming: list[SyncedEvent],
) -> tuple[int, int]:
    """Swap the calendar's synced events in the window for `incoming`; returns (removed, added).

    Emply-made events stay. An incoming event that is the Entra copy of an Emply-made event
    (same Entra event id) is not added twice.
    """
    incoming_ids = {event.entra_event_id for event in incoming}
    pushed_ids: set[str] = set()
    removed = 0
    for event in calendar_events(state, calendar):
        if event.source == "emply":
            if event.entra_event_id:
                pushed_ids.add(event.entra_event_id)
        elif event_in_window(event, *window) or event.entra_event_id in incoming_ids:
            _drop(state, event)
            removed += 1
    added = 0
    for synced in incoming:
        if synced.entra_event_id in pushed_ids:
            continue
        _store(
            state,
            Event(
                new_id(),
                calendar.user_id,
                calendar.calendar_id,
                synced.subject,
                synced.start,
                synced.end,
                synced.starts_at,
                synced.ends_at,
                source="entra",
                entra_event_id=synced.entra_event_id,
            ),
        )
        added += 1
    return removed, added


def outbox(state: CustomerState) -> list[Event]:
    """Emply-made events of live users not yet pushed to Microsoft 365, oldest start first."""
    waiting = []
    for event_id in state.emply_event_ids:
        event = state.events[event_id]
        user = state.users.get(event.user_id)
        if event.entra_event_id is None and user is not None and not user.deleted:
            waiting.append(event)
    return sorted(waiting, key=lambda e: (e.starts_at, e.event_id))


def mark_pushed(state: CustomerState, event_id: str, entra_event_id: str) -> Event:
    """Record the Entra copy of an Emply-made event; repeating the same call changes nothing."""
    event = state.events.get(event_id)
    if event is None or event.source != "emply":
        raise not_found(f"Emply-made event {event_id!r} not found")
    if event.entra_event_id not in (None, entra_event_id):
        raise conflict(f"event {event_id!r} was already pushed as {event.entra_event_id!r}")
    event.entra_event_id = entra_event_id
    for other in calendar_events(state, _calendar_of(state, event)):
        if other.source == "entra" and other.entra_event_id == entra_event_id:
            _drop(state, other)  # a sync that read Entra before this push made a twin
    return event


def _calendar_of(state: CustomerState, event: Event) -> Calendar:
    return state.users[event.user_id].calendars[event.calendar_id]
