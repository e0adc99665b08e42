"""Microsoft Graph v1.0 client: app-only tokens, paging, retries, $batch and the sync's writes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

import httpx
import orjson

from entrasync.connectors.graph import paths
from entrasync.connectors.graph.auth import MsalTokenSource
from entrasync.connectors.graph.batch import batch_chunks, check_batch_requests, ids_to_retry
from entrasync.connectors.graph.errors import GraphDataError, GraphError, GraphReadError
from entrasync.connectors.graph.models import (
    CALENDAR_SELECT,
    DELETED_USER_SELECT,
    GROUP_SELECT,
    MEMBER_SELECT,
    USER_SELECT,
)
from entrasync.connectors.graph.pacing import ResourceUnitPacer, resource_unit_cost
from entrasync.connectors.graph.paging import PageStream
from entrasync.connectors.graph.paths import (
    CONSISTENCY_EVENTUAL,
    DEFAULT_AUTHORITY_HOST,
    DEFAULT_GRAPH_URL,
    UTC_EVENTS,
)
from entrasync.connectors.http import backoff_seconds, retry_after_seconds, tls_context

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503, 504})
PERMANENT_5XX = frozenset({501, 505})


class GraphClient:
    """A Graph client for one Entra tenant: one msal app, one HTTP connection pool."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        graph_url: str = DEFAULT_GRAPH_URL,
        ca_bundle: str | None = None,
        http: httpx.Client | None = None,
        timeout_s: float = 30,
        max_retries: int = 6,
        max_backoff_s: float = 30,
        retry_after_cap_s: float = 120,
        page_size: int = 999,
        token_provider: Callable[[], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        before_request: Callable[[], AbstractContextManager[Any]] | None = None,
        pacer: ResourceUnitPacer | None = None,
    ) -> None:
        if not 1 <= page_size <= 999:
            raise ValueError(f"page_size must be 1..999 (Graph's $top limit), got {page_size}")
        self.tenant_id = tenant_id
        self.graph_url = graph_url.rstrip("/")
        self._base = httpx.URL(self.graph_url)
        self._token_provider = token_provider or MsalTokenSource(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            authority_host=authority_host,
            ca_bundle=ca_bundle,
            timeout_s=timeout_s,
            retry_after_cap_s=retry_after_cap_s,
            sleep=sleep,
        )
        self._owns_http = http is None
        self._http = http or httpx.Client(verify=tls_context(ca_bundle), timeout=timeout_s)
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        # a longer Retry-After fails the request: waiting it out would hold the tenant's slot
        self._retry_after_cap_s = retry_after_cap_s
        self._page_size = page_size
        self._sleep = sleep
        # held around each HTTP request, e.g. a slot of a limit shared by all workers
        self._before_request = before_request or nullcontext
        # spends identity resource units before each request (shared by this client's threads)
        self.pacer = pacer

    def __repr__(self) -> str:
        return f"GraphClient(tenant_id={self.tenant_id!r}, graph_url={self.graph_url!r})"

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        close_token_source = getattr(self._token_provider, "close", None)
        if close_token_source is not None:
            close_token_source()

    # ---- reads -------------------------------------------------------------------------------

    def iter_pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> PageStream:
        """Pages of a collection; a failed page anywhere raises, nothing partial is returned."""
        return PageStream(self._get_json, path, params, headers)

    def iter_users(self, select: tuple[str, ...] = USER_SELECT) -> Iterator[dict[str, Any]]:
        return self.iter_pages(paths.USERS, self._list_params(select)).items()

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
        params = self._list_params(select)
        if odata_filter:
            params["$filter"] = odata_filter
        return self.iter_pages(paths.GROUPS, params).items()

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

    def iter_deleted_users(self) -> Iterator[dict[str, Any]]:
        return self.iter_pages(paths.DELETED_USERS, self._list_params(DELETED_USER_SELECT)).items()

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
        response = self._call_unless_missing("GET", paths.photo_value(user_id))
        return None if response is None else response.content

    def get_photo_meta(self, user_id: str) -> dict[str, Any] | None:
        response = self._call_unless_missing("GET", paths.photo(user_id))
        return None if response is None else _json_object(response, "photo metadata")

    # ---- writes ------------------------------------------------------------------------------

    def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self._call("POST", paths.USERS, json=body, expect=(201,))
        return _json_object(response, "created user")

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
        return _json_object(response, "created event")

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
        items = _json_object(response, "batch response").get("responses")
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

    # ---- HTTP --------------------------------------------------------------------------------

    def _list_params(self, select: tuple[str, ...]) -> dict[str, Any]:
        return {"$select": ",".join(select), "$top": self._page_size}

    def _get_json(
        self, url: str, params: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = self._call("GET", url, params=params, headers=headers)
        return _json_object(response, self._display_path(self._url(url)))

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """Send with retries; return a response with an expected status, or raise GraphError."""
        full_url = self._url(url)
        path = self._display_path(full_url)
        response = self._send_with_retries(method, full_url, path, params, json, headers)
        if response.status_code in expect:
            return response
        raise GraphError.from_body(
            response.status_code,
            _json_or_none(response),
            method,
            path,
            reason=response.reason_phrase,
            request_id=response.headers.get("request-id"),
        )

    def _call_unless_missing(self, method: str, url: str) -> httpx.Response | None:
        """Like _call, but None when Graph answers 404 (a user without a photo)."""
        try:
            return self._call(method, url)
        except GraphError as error:
            if error.status == 404:
                return None
            raise

    def _send_with_retries(
        self,
        method: str,
        url: httpx.URL,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        token_refreshed = False
        attempt = 0
        while True:
            auth = {"Authorization": f"Bearer {self._token_provider()}"}
            if self.pacer is not None:
                self.pacer.take(resource_unit_cost(method, str(url), params))
            try:
                with self._before_request():
                    response = self._http.request(
                        method, url, params=params, json=json, headers={**(headers or {}), **auth}
                    )
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                if not _safe_to_resend(method, exc):
                    failure += " (not resent: it may have reached Graph)"
                    raise GraphReadError(method, path, attempt + 1, failure) from exc
                wait = None
            else:
                status = response.status_code
                if status == 401 and not token_refreshed:
                    token_refreshed = True
                    self._forget_token()
                    continue
                if not _is_transient(status):
                    return response
                failure = f"HTTP {status}"
                wait = None
                if status in RETRY_AFTER_STATUSES:
                    wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self._retry_after_cap_s:
                    raise GraphReadError(method, path, attempt + 1, self._too_long(failure, wait))
                if status == 429 and self.pacer is not None:
                    self.pacer.hold_off(wait if wait is not None else 1.0)
            if attempt >= self._max_retries:
                raise GraphReadError(method, path, attempt + 1, failure)
            wait = wait if wait is not None else backoff_seconds(attempt, self._max_backoff_s)
            logger.warning(
                "Graph %s %s: %s; retry %d of %d in %.2f s",
                method, path, failure, attempt + 1, self._max_retries, wait,
            )  # fmt: skip
            self._sleep(wait)
            attempt += 1

    def _too_long(self, failure: str, wait: float) -> str:
        return (
            f"{failure} asking to wait {wait:.0f} s (Retry-After), more than "
            f"retry_after_cap_seconds {self._retry_after_cap_s:g}"
        )

    def _forget_token(self) -> None:
        forget = getattr(self._token_provider, "forget_token", None)
        if forget is not None:
            forget()

    def _url(self, url_or_path: str) -> httpx.URL:
        if not url_or_path.startswith(("https://", "http://")):
            return httpx.URL(f"{self.graph_url}/{url_or_path.lstrip('/')}")
        url = httpx.URL(url_or_path)
        base = self._base
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            # A nextLink elsewhere would receive our bearer token: refuse it.
            raise GraphDataError(f"Graph link points outside {self.graph_url}: {url_or_path[:120]}")
        return url

    def _display_path(self, url: httpx.URL) -> str:
        base_path = self._base.path.rstrip("/")
        path = url.path
        if not path.startswith(base_path):
            return path
        return path[len(base_path) :] or "/"


def _is_transient(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in PERMANENT_5XX)


def _safe_to_resend(method: str, exc: httpx.TransportError) -> bool:
    # A POST that may have reached Graph is not sent twice; one that never left is.
    connect_failures = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    return method != "POST" or isinstance(exc, connect_failures)


def _resend(request: dict[str, Any], retry_ids: set[str]) -> dict[str, Any]:
    depends_on = [i for i in request.get("dependsOn", []) if i in retry_ids]
    resent = {key: value for key, value in request.items() if key != "dependsOn"}
    return {**resent, "dependsOn": depends_on} if depends_on else resent


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)  # JSON is UTF-8; orjson decodes it 2-3x faster
    except ValueError:
        return None


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise GraphDataError(f"Graph answer for {what} is not a JSON object")
    return body
