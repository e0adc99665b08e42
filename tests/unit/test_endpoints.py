"""HTTPS only: a plain-HTTP endpoint or a CA bundle that is not there stops with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from test_graph_client import Script, make_client, page

from entrasync.cli import main
from entrasync.connectors.graph import GraphDataError
from entrasync.endpoints import Endpoints
from entrasync.errors import SettingsError

VARIABLES = ("ENTRASYNC_AUTHORITY_HOST", "ENTRASYNC_GRAPH_URL", "ENTRASYNC_EMPLY_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*VARIABLES, "ENTRASYNC_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def refusal(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        Endpoints.from_env()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ")
    return message


def test_the_defaults_are_microsofts_and_emplys_https_hosts() -> None:
    endpoints = Endpoints.from_env()
    assert endpoints.graph_url == "https://graph.microsoft.com/v1.0"
    assert all(
        url.startswith("https://")
        for url in (endpoints.authority_host, endpoints.graph_url, endpoints.emply_url)
    )
    assert endpoints.ca_bundle is None


@pytest.mark.parametrize("name", VARIABLES)
@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8443", "HTTP://graph.example/v1.0", "ftp://x", "graph.example", ""]
)
def test_an_endpoint_that_is_not_https_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    assert "is not an https:// URL" in refusal(monkeypatch, name, value)


def test_https_endpoints_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.setenv(name, "https://127.0.0.1:8443/v1")
    assert Endpoints.from_env().emply_url == "https://127.0.0.1:8443/v1"


def test_a_missing_ca_bundle_is_named_with_its_path(monkeypatch, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    message = refusal(monkeypatch, "ENTRASYNC_CA_BUNDLE", str(missing))
    assert message == f"ENTRASYNC_CA_BUNDLE: {missing}: no such file"


def test_a_ca_bundle_that_is_a_folder_or_not_pem_is_named(monkeypatch, tmp_path: Path) -> None:
    assert "a folder" in refusal(monkeypatch, "ENTRASYNC_CA_BUNDLE", str(tmp_path))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    assert "not a PEM CA bundle" in refusal(monkeypatch, "ENTRASYNC_CA_BUNDLE", str(junk))


def test_a_pem_ca_bundle_is_taken(monkeypatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("ENTRASYNC_CA_BUNDLE", str(bundle))
    assert Endpoints.from_env().ca_bundle == str(bundle)


@pytest.mark.parametrize(
    "link",
    [
        "http://graph.microsoft.com/v1.0/users?$skiptoken=x",  # same host, downgraded
        "https://graph.microsoft.com:8443/v1.0/users?$skiptoken=x",  # same host, other port
    ],
)
def test_graph_never_follows_a_link_off_its_https_origin(link: str) -> None:
    """A hostile or misconfigured server cannot have our bearer token sent in clear text."""
    script = Script(page([{"id": "1"}], link))
    with pytest.raises(GraphDataError, match="outside"):
        list(make_client(script).iter_users())
    assert len(script.requests) == 1


def test_entrasync_sync_stops_on_a_plain_http_endpoint_in_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ENTRASYNC_EMPLY_URL", "http://api.emply.com/v1")
    with pytest.raises(SystemExit) as exit_:
        main(["sync", "--tenant", "demo"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "entrasync: ENTRASYNC_EMPLY_URL: http://api.emply.com is not an https:// URL"
        " (secrets travel on every call: HTTPS only)\n"
    )


def test_an_unreadable_ca_bundle_is_named(monkeypatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")

    def refuse(cafile: str) -> None:  # as the OS answers a file its mode hides (not as root)
        raise PermissionError(13, "Permission denied", cafile)

    monkeypatch.setattr("entrasync.endpoints.ssl.create_default_context", refuse)
    message = refusal(monkeypatch, "ENTRASYNC_CA_BUNDLE", str(bundle))
    assert message == f"ENTRASYNC_CA_BUNDLE: {bundle}: not readable"
