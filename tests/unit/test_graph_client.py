"""GraphClient behaviour: paging, retries, token refresh, batch splitting, writes, msal setup."""

from __future__ import annotations

import json
import pickle

import certifi
import httpx
import pytest
from scripted_transport import Script

from entrasync.connectors.graph import (
    GraphAuthError,
    GraphClient,
    GraphDataError,
    GraphError,
    GraphReadError,
)
from entrasync.connectors.graph import auth as graph_auth
from entrasync.connectors.graph.token_http import AuthorityHttpClient

GRAPH = "https://graph.microsoft.com/v1.0"


def page(values, next_link=None, **extra):
    body = {"value": values, **extra}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, json=body)


class Tokens:
    """A token provider that hands out token-1, token-2, ... after each forget_token()."""

    def __init__(self):
        self.issued = 1
        self.forgotten = 0

    def __call__(self):
        return f"token-{self.issued}"

    def forget_token(self):
        self.forgotten += 1
        self.issued += 1


def make_client(handler, sleeps=None, tokens=None, **options):
    return GraphClient(
        tenant_id="t1",
        client_id="app",
        client_secret="s3cret",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        token_provider=tokens or Tokens(),
        sleep=(sleeps if sleeps is not None else []).append,
        **options,
    )


# ---- paging --------------------------------------------------------------------------------


def test_next_link_paging_over_three_pages():
    script = Script(
        page([{"id": "1"}], f"{GRAPH}/users?$top=999&$skiptoken=X%274453707%27"),
        page([{"id": "2"}], f"{GRAPH}/users?$skiptoken=two"),
        page([{"id": "3"}], **{"@odata.deltaLink": f"{GRAPH}/users/delta?$deltatoken=d"}),
    )
    stream = make_client(script).iter_pages("/users", {"$select": "id", "$top": 999})
    assert [p for p in stream] == [[{"id": "1"}], [{"id": "2"}], [{"id": "3"}]]
    first, second, third = script.requests
    assert dict(first.url.params) == {"$select": "id", "$top": "999"}
    assert str(second.url) == f"{GRAPH}/users?$top=999&$skiptoken=X%274453707%27"
    assert str(third.url) == f"{GRAPH}/users?$skiptoken=two"
    assert stream.pages_read == 3 and stream.delta_link.endswith("$deltatoken=d")
    assert all(r.headers["Authorization"] == "Bearer token-1" for r in script.requests)


def test_page_size_option_sets_top():
    script = Script(page([]))
    list(make_client(script, page_size=50).iter_users())
    assert script.requests[0].url.params["$top"] == "50"


def test_next_link_to_another_host_is_refused():
    script = Script(page([{"id": "1"}], "https://evil.example/v1.0/users?$skiptoken=x"))
    with pytest.raises(GraphDataError, match="outside"):
        list(make_client(script).iter_users())
    assert len(script.requests) == 1


def test_page_without_value_is_a_data_error():
    script = Script(httpx.Response(200, json={"error": "nope"}))
    with pytest.raises(GraphDataError, match="no 'value' list"):
        list(make_client(script).iter_groups())


# ---- retries -------------------------------------------------------------------------------


def test_503_storm_in_the_middle_raises_and_returns_nothing_partial():
    storm = [httpx.Response(503, headers={"Retry-After": "1"}) for _ in range(7)]
    script = Script(page([{"id": "1"}], f"{GRAPH}/users?$skiptoken=2"), *storm)
    sleeps: list[float] = []
    users = None
    with pytest.raises(GraphReadError) as caught:
        users = list(make_client(script, sleeps).iter_users())
    assert users is None
    assert caught.value.attempts == 7 and caught.value.path == "/users"
    assert sleeps == [1.0] * 6
    assert len(script.requests) == 8


def test_transient_5xx_then_success_backs_off_within_the_cap():
    script = Script(httpx.Response(500), httpx.Response(502), page([{"id": "1"}]))
    sleeps: list[float] = []
    users = list(make_client(script, sleeps, max_backoff_s=0.6).iter_users())
    assert users == [{"id": "1"}]
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.3 <= sleeps[1] <= 0.6


def test_429_without_retry_after_uses_backoff():
    script = Script(httpx.Response(429), page([]))
    sleeps: list[float] = []
    list(make_client(script, sleeps).iter_users())
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5


def test_connection_errors_are_retried_for_reads():
    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), page([{"id": "1"}]))
    assert list(make_client(script).iter_users()) == [{"id": "1"}]


def test_post_that_may_have_arrived_is_not_sent_twice():
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(GraphReadError, match="ReadTimeout"):
        make_client(script).create_user({"userPrincipalName": "a@contoso.com"})
    assert len(script.requests) == 1


def test_501_and_403_are_not_retried():
    for status in (501, 403):
        script = Script(httpx.Response(status, json={"error": {"code": "X", "message": "m"}}))
        with pytest.raises(GraphError) as caught:
            make_client(script).get_user("u1")
        assert caught.value.status == status and len(script.requests) == 1


def test_request_id_falls_back_to_the_response_header():
    script = Script(httpx.Response(404, text="gone", headers={"request-id": "rid-1"}))
    with pytest.raises(GraphError) as caught:
        make_client(script).delete_user("u1")
    assert (caught.value.code, caught.value.request_id) == ("", "rid-1")
    assert caught.value.message == "Not Found"


# ---- tokens --------------------------------------------------------------------------------


def test_401_refreshes_the_token_once_then_succeeds():
    tokens = Tokens()
    script = Script(httpx.Response(401), page([{"id": "1"}]))
    assert list(make_client(script, tokens=tokens).iter_users()) == [{"id": "1"}]
    assert tokens.forgotten == 1
    assert [r.headers["Authorization"] for r in script.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_401_twice_is_an_error():
    unauthorized = {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
    script = Script(httpx.Response(401, json=unauthorized), httpx.Response(401, json=unauthorized))
    with pytest.raises(GraphError) as caught:
        list(make_client(script).iter_users())
    assert (caught.value.status, caught.value.code) == (401, "InvalidAuthenticationToken")


class FakeMsalApp:
    created: list[dict] = []
    answer: dict = {"access_token": "at-1"}

    def __init__(self, client_id, **kwargs):
        FakeMsalApp.created.append({"client_id": client_id, **kwargs})
        self.scopes_asked: list[list[str]] = []

    def acquire_token_for_client(self, scopes):
        self.scopes_asked.append(scopes)
        return FakeMsalApp.answer


@pytest.fixture
def fake_msal(monkeypatch):
    FakeMsalApp.created = []
    FakeMsalApp.answer = {"access_token": "at-1"}
    monkeypatch.setattr(graph_auth.msal, "ConfidentialClientApplication", FakeMsalApp)
    return FakeMsalApp


def test_msal_app_for_an_emulated_authority_skips_instance_discovery(fake_msal):
    script = Script(page([]), page([]))
    client = GraphClient(
        tenant_id="t1",
        client_id="app-1",
        client_secret="s3cret",
        authority_host="https://127.0.0.1:8443/",
        ca_bundle=None,
        http=httpx.Client(transport=httpx.MockTransport(script)),
    )
    list(client.iter_users())
    list(client.iter_groups())
    assert len(fake_msal.created) == 1  # one app per client; msal caches the token
    created = fake_msal.created[0]
    assert created["authority"] == "https://127.0.0.1:8443/t1"
    assert created["instance_discovery"] is False
    token_http = created["http_client"]
    assert isinstance(token_http, AuthorityHttpClient) and token_http._retry_after_cap_s == 120
    assert token_http._http.timeout == httpx.Timeout(30)  # a slow authority times out
    assert created["client_credential"] == "s3cret"
    assert script.requests[1].headers["Authorization"] == "Bearer at-1"


def test_msal_app_for_microsoft_keeps_instance_discovery(fake_msal):
    ca_file = certifi.where()
    source = graph_auth.MsalTokenSource(
        tenant_id="t1",
        client_id="app",
        client_secret="s3cret",
        authority_host="https://login.microsoftonline.com",
        ca_bundle=ca_file,
        timeout_s=5,
    )
    assert source() == "at-1"
    created = fake_msal.created[0]
    assert created["instance_discovery"] is None
    assert created["http_client"]._http.timeout == httpx.Timeout(5)
    assert "s3cret" not in repr(source)


def test_msal_error_becomes_graph_auth_error_without_the_secret(fake_msal):
    fake_msal.answer = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.",
    }
    client = GraphClient(
        tenant_id="t1",
        client_id="app",
        client_secret="s3cret",
        http=httpx.Client(transport=httpx.MockTransport(Script())),
    )
    with pytest.raises(GraphAuthError) as caught:
        list(client.iter_users())
    assert caught.value.error == "invalid_client"
    assert "AADSTS7000215" in str(caught.value) and "s3cret" not in str(caught.value)


# ---- writes and batch ----------------------------------------------------------------------


def test_add_group_member_posts_a_directory_object_reference():
    script = Script(httpx.Response(204))
    make_client(script).add_group_member("g1", "u1")
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1.0/groups/g1/members/$ref")
    assert json.loads(request.content) == {"@odata.id": f"{GRAPH}/directoryObjects/u1"}


def test_photo_bytes_and_missing_photo():
    script = Script(httpx.Response(200, content=b"\xff\xd8jpeg"), httpx.Response(404))
    client = make_client(script)
    assert client.get_photo("u1") == b"\xff\xd8jpeg"
    assert client.get_photo("u2") is None
    assert script.requests[0].url.path == "/v1.0/users/u1/photo/$value"


def test_photo_meta_missing_is_none():
    assert make_client(Script(httpx.Response(404))).get_photo_meta("u1") is None


def test_ids_with_reserved_characters_are_escaped():
    script = Script(httpx.Response(201, json={"id": "e1"}))
    make_client(script).create_event("a_b.com#EXT#@t.onmicrosoft.com", "AAMk/AG+I=", {})
    assert script.requests[0].url.raw_path.decode() == (
        "/v1.0/users/a_b.com%23EXT%23@t.onmicrosoft.com/calendars/AAMk%2FAG%2BI%3D/events"
    )


def test_deleted_users_reader_path_and_select():
    script = Script(page([]))
    list(make_client(script).iter_deleted_users())
    request = script.requests[0]
    assert request.url.path == "/v1.0/directory/deletedItems/microsoft.graph.user"
    assert request.url.params["$select"] == "id,userPrincipalName,deletedDateTime"


def batch_echo(requests_seen):
    """Answers each $batch call with 200s, in reverse order, echoing the item id."""

    def handler(request):
        items = json.loads(request.content)["requests"]
        requests_seen.append([item["id"] for item in items])
        answers = [{"id": item["id"], "status": 200, "body": {"n": item["id"]}} for item in items]
        return httpx.Response(200, json={"responses": answers[::-1]})

    return handler


def test_batch_splits_into_calls_of_twenty_and_keeps_request_order():
    seen: list[list[str]] = []
    requests = [{"id": str(i), "method": "GET", "url": f"/users/{i}"} for i in range(45)]
    responses = make_client(batch_echo(seen)).batch(requests)
    assert [len(call) for call in seen] == [20, 20, 5]
    assert [r["id"] for r in responses] == [str(i) for i in range(45)]
    assert all(r["body"] == {"n": r["id"]} and r["headers"] == {} for r in responses)


def test_batch_keeps_depends_on_chains_in_one_call():
    seen: list[list[str]] = []
    requests = [{"id": str(i), "method": "GET", "url": "/x"} for i in range(25)]
    requests[21]["dependsOn"] = ["15"]
    make_client(batch_echo(seen)).batch(requests)
    assert not any("15" in call and "21" not in call for call in seen)


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([{"id": "1", "method": "GET", "url": "/a"}] * 2, "used twice"),
        ([{"id": 1, "method": "GET", "url": "/a"}], "non-empty text"),
        ([{"id": "1", "method": "GET", "url": "/a", "dependsOn": ["9"]}], "unknown ids"),
        (
            [
                {"id": str(i), "method": "GET", "url": "/a", "dependsOn": [str(i - 1)] if i else []}
                for i in range(21)
            ],
            "exceed 20",
        ),
    ],
)
def test_batch_rejects_bad_requests(requests, message):
    with pytest.raises(ValueError, match=message):
        make_client(Script()).batch(requests)


def test_batch_item_throttled_forever_is_returned_as_429():
    throttled = {"responses": [{"id": "1", "status": 429, "headers": {"retry-after": "3"}}]}
    script = Script(*[httpx.Response(200, json=throttled) for _ in range(3)])
    sleeps: list[float] = []
    client = make_client(script, sleeps, max_retries=2)
    [response] = client.batch([{"id": "1", "method": "GET", "url": "/users/1"}])
    assert response["status"] == 429 and sleeps == [3.0, 3.0]


def test_batch_item_not_answered_is_a_data_error():
    script = Script(httpx.Response(200, json={"responses": []}))
    with pytest.raises(GraphDataError, match="lacks responses"):
        make_client(script).batch([{"id": "1", "method": "GET", "url": "/users/1"}])


def test_errors_survive_pickling():
    error = GraphError(404, "Request_ResourceNotFound", "gone", "rid", "GET", "/users/x")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status, copy.path, str(copy)) == (404, "/users/x", str(error))
    read_error = pickle.loads(pickle.dumps(GraphReadError("GET", "/users", 7, "HTTP 503")))
    assert read_error.attempts == 7
