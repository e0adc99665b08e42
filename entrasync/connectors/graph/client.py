"""Microsoft Graph v1.0 client: the typed reads and writes the sync makes, and $batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from entrasync.connectors.graph import paths
from entrasync.connectors.graph.batch import batch_chunks, check_batch_requests, ids_to_retry
from entrasync.connectors.graph.errors import GraphDataError, GraphReadError
from entrasync.connectors.graph.models import (
    CALENDAR_SELECT,
    DELETED_USER_SELECT,
    GROUP_SELECT,
    MEMBER_SELECT,
    USER_SELECT,
)
from entrasync.connectors.graph.paging import PageStream
from entrasync.connectors.graph.paths import CONSISTENCY_EVENTUAL, UTC_EVENTS
from entrasync.connectors.graph.transport import (
    RETRY_AFTER_STATUSES,
    GraphTransport,
    json_object,
)
from entrasync.connectors.http import backoff_seconds, retry_after_seconds

__all__ = ["GraphClient", "PageStream"]


class GraphClient(GraphTransport):
    """A Graph client for one Entra tenant: one msal app, one HTTP connection pool."""

    def __repr__(self) -> str:
        return f"GraphClient(tenant_id={self.tenant_id!r}, graph_url={self.graph_url!r})"

    # ---- reads -------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> PageStream:
        """Pages of a collection; a failed page anywhere raises, nothing partial is returned."""
        return PageStream(self._get_json, path, params, headers)

    def user_pages(
        self, select: tuple[str, ...] = USER_SELECT, first_character: str | None = None
    ) -> PageStream:
        """Users page by page; `first_character`: only those whose UPN starts with it."""
        params = self._list_params(select)
        if first_character is not None:
            params["$filter"] = paths.upn_starts_with(first_character)
        return self.iter_pages(paths.USERS, params)

    def iter_users(self, select: tuple[str, ...] = USER_SELECT) -> Iterator[dict[str, Any]]:
        return self.user_pages(select).items()

    def count_users(self) -> int:
        response = self._call("GET", paths.USER_COUNT, headers=CONSISTENCY_EVENTUAL)
        try:
            return int(response.text.strip())
        except ValueError:
            raise GraphDataError(
                f"Graph /users/$count is not a number: {response.text[:40]!r}"
            ) from None

    def iter_groups(
        self, select: tuple[str, ...] = GROUP_SELECT, odata_filter: str | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.group_pages(select, odata_filter).items()

    def group_pages(
        self, select: tuple[str, ...] = GROUP_SELECT, odata_filter: str | None = None
    ) -> PageStream:
        params = self._list_params(select)
        if odata_filter:
            params["$filter"] = odata_filter
        return self.iter_pages(paths.GROUPS, params)

    def member_pages(self, group_id: str) -> PageStream:
        """A group's direct members page by page (users and nested groups carry @odata.type)."""
        return self.iter_pages(paths.group_members(group_id), self._list_params(MEMBER_SELECT))

    def iter_group_members(
        self, group_id: str, transitive: bool = False, cast: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Members as directory objects carrying `@odata.type`; `cast` ('user'/'group') filters."""
        relation = "transitiveMembers" if transitive else "members"
        path = paths.group_members(group_id, relation)
        if cast is None:
            return self.iter_pages(path, self._list_params(MEMBER_SELECT)).items()
        cast_path = f"{path}/microsoft.graph.{cast}"
        members = self.iter_pages(cast_path, self._list_params(MEMBER_SELECT))
        # A cast collection is typed, so Graph leaves @odata.type out of its items.
        return ({"@odata.type": f"#microsoft.graph.{cast}", **obj} for obj in members.items())

    def deleted_user_pages(self) -> PageStream:
        return self.iter_pages(paths.DELETED_USERS, self._list_params(DELETED_USER_SELECT))

    def iter_deleted_users(self) -> Iterator[dict[str, Any]]:
        return self.deleted_user_pages().items()

    def get_user(self, user_id: str, select: tuple[str, ...] = USER_SELECT) -> dict[str, Any]:
        return self._get_json(paths.user(user_id), {"$select": ",".join(select)})

    def list_calendars(self, user_id: str) -> list[dict[str, Any]]:
        path = f"{paths.user(user_id)}/calendars"
        return list(self.iter_pages(path, {"$select": ",".join(CALENDAR_SELECT)}).items())

    def get_default_calendar(self, user_id: str) -> dict[str, Any]:
        return self._get_json(f"{paths.user(user_id)}/calendar", None)

    def calendar_view(
        self,
        user_id: str,
        calendar_id: str | None,
        start: datetime | str,
        end: datetime | str,
    ) -> list[dict[str, Any]]:
        """Events (occurrences expanded) between start and end, times in UTC; None: default."""
        path = f"{paths.calendar(user_id, calendar_id)}/calendarView"
        params = {
            "startDateTime": paths.iso(start),
            "endDateTime": paths.iso(end),
            "$top": min(self._page_size, 1000),
        }
        return list(self.iter_pages(path, params, UTC_EVENTS).items())

    def get_photo(self, user_id: str) -> bytes | None:
        response = self._call_unless_missing("GET", paths.photo(user_id, content=True))
        return None if response is None else response.content

    def get_photo_meta(self, user_id: str) -> dict[str, Any] | None:
        response = self._call_unless_missing("GET", paths.photo(user_id))
        return None if response is None else json_object(response, "photo metadata")

    # ---- writes ------------------------------------------------------------------------------

    def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self._call("POST", paths.USERS, json=body, expect=(201,))
        return json_object(response, "created user")

    def update_user(self, user_id: str, body: dict[str, Any]) -> None:
        self._call("PATCH", paths.user(user_id), json=body, expect=(200, 204))

    def delete_user(self, user_id: str) -> None:
        self._call("DELETE", paths.user(user_id), expect=(204,))

    def add_group_member(self, group_id: str, user_id: str) -> None:
        reference = {"@odata.id": f"{self.graph_url}/directoryObjects/{user_id}"}
        path = f"{paths.group_members(group_id)}/$ref"
        self._call("POST", path, json=reference, expect=(204,))

    def create_event(
        self, user_id: str, calendar_id: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"{paths.calendar(user_id, calendar_id)}/events"
        response = self._call("POST", path, json=body, headers=UTC_EVENTS, expect=(201,))
        return json_object(response, "created event")

    def batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run requests through /$batch (20 a call); responses come back in request order.

        Each response is `{"id", "status", "headers", "body"}` (body may be None). Items that
        were throttled (429/503/504) are sent again alone after their Retry-After, together
        with the items that failed with 424 only because they depend on them.
        """
        check_batch_requests(requests)
        responses: dict[str, dict[str, Any]] = {}
        for chunk in batch_chunks(requests):
            responses.update(self._run_batch_chunk(chunk))
        return [responses[request["id"]] for request in requests]

    def _run_batch_chunk(self, chunk: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        pending = chunk
        for attempt in range(self._max_retries + 1):
            results.update(self._post_batch(pending))
            retry_ids = ids_to_retry(pending, results, RETRY_AFTER_STATUSES)
            if not retry_ids or attempt == self._max_retries:
                break
            waits = [retry_after_seconds(results[i]["headers"]) for i in retry_ids]
            known_waits = [wait for wait in waits if wait is not None]
            if known_waits and max(known_waits) > self._retry_after_cap_s:
                status = max(results[i]["status"] for i in retry_ids)
                failure = self._too_long(f"HTTP {status} in a $batch item", max(known_waits))
                raise GraphReadError("POST", "/$batch", attempt + 1, failure)
            self._sleep(
                max(known_waits) if known_waits else backoff_seconds(attempt, self._max_backoff_s)
            )
            pending = [_resend(r, retry_ids) for r in pending if r["id"] in retry_ids]
        return results

    def _post_batch(self, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        response = self._call("POST", "/$batch", json={"requests": requests})
        items = json_object(response, "batch response").get("responses")
        if not isinstance(items, list):
            raise GraphDataError("Graph $batch answer has no 'responses' list")
        answered = {
            str(item.get("id")): {
                "id": str(item.get("id")),
                "status": int(item.get("status", 0)),
                "headers": item.get("headers") or {},
                "body": item.get("body"),
            }
            for item in items
            if isinstance(item, dict)
        }
        unanswered = [request["id"] for request in requests if request["id"] not in answered]
        if unanswered:
            raise GraphDataError(f"Graph $batch answer lacks responses for ids {unanswered}")
        return answered

    def _list_params(self, select: tuple[str, ...]) -> dict[str, Any]:
        return {"$select": ",".join(select), "$top": self._page_size}


def _resend(request: dict[str, Any], retry_ids: set[str]) -> dict[str, Any]:
    depends_on = [i for i in request.get("dependsOn", []) if i in retry_ids]
    resent = {key: value for key, value in request.items() if key != "dependsOn"}
    return {**resent, "dependsOn": depends_on} if depends_on else resent
