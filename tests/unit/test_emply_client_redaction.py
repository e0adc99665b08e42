"""The Emply API key never shows in logs, exception messages or reprs."""

from __future__ import annotations

import logging

import httpx
import pytest

from entrasync.connectors.emply import EmplyClient, EmplyError, EmplyUnavailable
from entrasync.connectors.emply.redact import redact

KEY = "SuperSecret-Key_42"


def make_client(handler):
    return EmplyClient(
        customer="demo",
        api_key=KEY,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=1,
        sleep=lambda seconds: None,
    )


def test_request_logs_hide_the_key(caplog):
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, json={"exportId": "users", "data": []})

    with caplog.at_level(logging.DEBUG):
        make_client(handler).read_export("users")
    assert KEY in seen[0]  # it is sent...
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "apiKey=***" in logged  # ...and httpx logged the request URL, redacted
    assert KEY not in logged and KEY not in caplog.text


def test_server_error_messages_and_reprs_hide_the_key():
    def handler(request):
        message = f"internal error for {request.url} (key {KEY})"
        return httpx.Response(500, json={"error": {"code": "internal", "message": message}})

    client = make_client(handler)
    with pytest.raises(EmplyUnavailable) as caught:
        client.read_users()
    error = caught.value
    for text in (str(error), repr(error), error.message, error.path, repr(client)):
        assert KEY not in text
    assert "apiKey=***" in str(error)


def test_client_error_message_hides_a_key_echoed_by_the_server():
    def handler(request):
        return httpx.Response(401, json={"error": {"code": "unauthorized", "message": KEY}})

    with pytest.raises(EmplyError) as caught:
        make_client(handler).update_user("u-1", active=True)
    assert KEY not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_connection_failure_hides_the_key():
    def handler(request):
        raise httpx.ConnectError(f"cannot reach {request.url}")

    with pytest.raises(EmplyUnavailable) as caught:
        make_client(handler).read_export("users")
    assert KEY not in str(caught.value) and caught.value.__cause__ is None


def test_redact_handles_url_encoded_keys():
    assert redact("GET /x?apiKey=a%2Fb&y=1") == "GET /x?apiKey=***&y=1"
    assert redact("key a/b and a%2Fb", "a/b") == "key *** and ***"
