"""Graph calendar routes: calendars of a user, calendarView, events list/get/create/delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from entrasync_emulators.graph.directory import Record
from entrasync_emulators.graph.events import create_event, parse_instant, render_event
from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.odata import project, select_option
from entrasync_emulators.graph.outlook import mailbox_owner, outlook_page, preferred_zone
from entrasync_emulators.graph.router import Handler, router

EVENT_TYPE_NAME = "Microsoft.OutlookServices.Event"
CALENDAR_TYPE_NAME = "Microsoft.OutlookServices.Calendar"


def item_not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def render_calendar(request: GraphRequest, user_id: str, calendar: Record) -> dict[str, Any]:
    owner = request.tenant.users[user_id]
    return {
        "@odata.id": (
            f"{request.base_url}/users('{user_id}@{request.tenant.tenant_id}')"
            f"/calendars('{calendar['id']}')"
        ),
        **calendar,
        "owner": {
            "name": owner.get("displayName"),
            "address": owner.get("mail") or owner["userPrincipalName"],
        },
    }


def _mailbox_context(request: GraphRequest, user_id: str, tail: str) -> str:
    return f"{request.base_url}/$metadata#users('{user_id}')/{tail}"


def _calendar_route(method: str, tail: str) -> Callable[[Handler], Handler]:
    """Route `tail` of a user's mailbox, of its default calendar and of a calendar by id."""

    def register(handler: Handler) -> Handler:
        for prefix in ("/calendars/{calendar}", "/calendar", ""):
            router.route(method, f"/users/{{user}}{prefix}/{tail}")(handler)
        return handler

    return register


def _owner_and_calendar(request: GraphRequest) -> tuple[str, Record]:
    """The mailbox owner's id and the calendar the path names."""
    user_id, _ = mailbox_owner(request)
    return user_id, _calendar(request, user_id)


def _calendar(request: GraphRequest, user_id: str) -> Record:
    """The calendar the path names ({calendar} id), or the default one for /calendar paths."""
    box = request.tenant.mailbox(user_id)
    calendar_id = request.path_params.get("calendar")
    if calendar_id is None:
        return next(c for c in box.calendars.values() if c["isDefaultCalendar"])
    calendar = box.calendars.get(calendar_id)
    if calendar is None:
        raise item_not_found()
    return calendar


def _event_names(request: GraphRequest) -> list[str] | None:
    raw = request.option("$select")
    if raw is None or not raw.strip():
        return None
    known = {
        "id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories",
        "originalStartTimeZone", "originalEndTimeZone", "iCalUId", "reminderMinutesBeforeStart",
        "isReminderOn", "hasAttachments", "hideAttendees", "subject", "bodyPreview",
        "importance", "sensitivity", "isAllDay", "isCancelled", "isDraft", "isOrganizer",
        "responseRequested", "seriesMasterId", "transactionId", "showAs", "type", "webLink",
        "onlineMeetingUrl", "isOnlineMeeting", "onlineMeetingProvider", "onlineMeeting",
        "allowNewTimeProposals", "responseStatus", "body", "start", "end", "location",
        "locations", "recurrence", "attendees", "organizer",
    }  # fmt: skip
    by_lower = {name.lower(): name for name in known}
    names = []
    for part in raw.split(","):
        wanted = part.strip()
        if not wanted:
            continue
        if wanted.lower() not in by_lower:
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{wanted}' on type '{EVENT_TYPE_NAME}'.",
            )
        names.append(by_lower[wanted.lower()])
    return names if "id" in names else [*names, "id"]


def _events_page(
    request: GraphRequest, user_id: str, events: list[Record], entity: str
) -> GraphResponse:
    zone_name = preferred_zone(request) or "UTC"
    names = _event_names(request)
    response = outlook_page(
        request,
        events,
        lambda event: render_event(event, zone_name, names),
        _mailbox_context(request, user_id, entity),
    )
    if zone_name != "UTC":
        response.headers["Preference-Applied"] = f'outlook.timezone="{zone_name}"'
    return response


CALENDAR_PROPERTIES = (
    "id", "name", "color", "hexColor", "isDefaultCalendar", "changeKey", "canShare",
    "canViewPrivateItems", "canEdit", "allowedOnlineMeetingProviders",
    "defaultOnlineMeetingProvider", "isTallyingResponses", "isRemovable", "owner",
)  # fmt: skip
CALENDAR_SELECTABLE = {name.lower(): name for name in CALENDAR_PROPERTIES}


@router.route("GET", "/users/{user}/calendars")
def list_calendars(request: GraphRequest) -> GraphResponse:
    user_id, _ = mailbox_owner(request)
    selected = select_option(request, CALENDAR_SELECTABLE, CALENDAR_TYPE_NAME)
    calendars = list(request.tenant.mailbox(user_id).calendars.values())

    def render(calendar: Record) -> dict[str, Any]:
        rendered = render_calendar(request, user_id, calendar)
        if selected is None:
            return rendered
        names = selected if "id" in selected else [*selected, "id"]
        return {"@odata.id": rendered["@odata.id"], **project(rendered, names)}

    return outlook_page(
        request,
        calendars,
        render,
        _mailbox_context(request, user_id, "calendars"),
    )


@router.route("GET", "/users/{user}/calendar")
@router.route("GET", "/users/{user}/calendars/{calendar}")
def get_calendar(request: GraphRequest) -> GraphResponse:
    user_id, calendar = _owner_and_calendar(request)
    body = {"@odata.context": _mailbox_context(request, user_id, "calendars/$entity")}
    body.update(render_calendar(request, user_id, calendar))
    return GraphResponse(200, body)


@_calendar_route("GET", "calendarView")
def calendar_view(request: GraphRequest) -> GraphResponse:
    user_id, calendar = _owner_and_calendar(request)
    start_text, end_text = request.option("startDateTime"), request.option("endDateTime")
    if not start_text or not end_text:
        raise GraphError(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        )
    window_start, window_end = parse_instant(start_text), parse_instant(end_text)
    events = request.tenant.mailbox(user_id).events.get(calendar["id"], [])
    in_window = sorted(
        (e for e in events if e["_start"] < window_end and e["_end"] > window_start),
        key=lambda e: e["_start"],
    )
    return _events_page(request, user_id, in_window, "calendarView")


@_calendar_route("GET", "events")
def list_events(request: GraphRequest) -> GraphResponse:
    user_id, calendar = _owner_and_calendar(request)
    events = list(request.tenant.mailbox(user_id).events.get(calendar["id"], []))
    return _events_page(request, user_id, events, "events")


@_calendar_route("POST", "events")
def post_event(request: GraphRequest) -> GraphResponse:
    user_id, calendar = _owner_and_calendar(request)
    if not calendar["canEdit"]:
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    payload = request.json_body()
    if not isinstance(payload, dict):
        raise GraphError(400, "ErrorInvalidRequest", "The request body must be an event object.")
    record = create_event(request.tenant, user_id, calendar["id"], payload, created_by_api=True)
    zone_name = preferred_zone(request) or "UTC"
    body = {
        "@odata.context": _mailbox_context(request, user_id, "events/$entity"),
        **render_event(record, zone_name),
    }
    return GraphResponse(
        201, body, headers={"Location": f"{request.base_url}/users/{user_id}/events/{record['id']}"}
    )


def _find_event(request: GraphRequest, user_id: str) -> tuple[str, Record]:
    box = request.tenant.mailbox(user_id)
    wanted = request.path_params["event"]
    for calendar_id, events in box.events.items():
        for event in events:
            if event["id"] == wanted:
                return calendar_id, event
    raise item_not_found()


@router.route("GET", "/users/{user}/events/{event}")
def get_event(request: GraphRequest) -> GraphResponse:
    user_id, _ = mailbox_owner(request)
    _, event = _find_event(request, user_id)
    body = {"@odata.context": _mailbox_context(request, user_id, "events/$entity")}
    body.update(render_event(event, preferred_zone(request) or "UTC", _event_names(request)))
    return GraphResponse(200, body)


@router.route("DELETE", "/users/{user}/events/{event}")
def delete_event(request: GraphRequest) -> GraphResponse:
    user_id, _ = mailbox_owner(request)
    calendar_id, event = _find_event(request, user_id)
    request.tenant.mailbox(user_id).events[calendar_id].remove(event)
    request.tenant.touch_mailbox()
    return GraphResponse(204)
