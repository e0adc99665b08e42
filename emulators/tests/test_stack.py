"""EmulatorStack: four HTTPS servers on loopback, one CA, the env contract, clean shutdown."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import httpx
import pytest
from emulator_fixtures import verified_client

from entrasync_emulators.stack import EmulatorStack


@pytest.fixture(scope="module")
def stack():
    with EmulatorStack(token_lifetime_s=120, latency_ms=0) as running:
        yield running


def test_urls_follow_the_design(stack):
    assert stack.graph_url.endswith("/v1.0")
    assert stack.emply_url.endswith("/v1")
    ports = set()
    for url in (stack.login_url, stack.graph_url, stack.emply_url, stack.control_url):
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.hostname == "127.0.0.1"
        ports.add(parts.port)
    assert len(ports) == 4


def test_env_holds_the_four_variables(stack):
    assert stack.env() == {
        "ENTRASYNC_AUTHORITY_HOST": stack.login_url,
        "ENTRASYNC_GRAPH_URL": stack.graph_url,
        "ENTRASYNC_EMPLY_URL": stack.emply_url,
        "ENTRASYNC_CA_BUNDLE": stack.ca_file,
    }


def test_every_server_answers_https_trusted_by_the_ca(stack):
    with verified_client(stack) as client:
        assert client.get(f"{stack.control_url}/graph/stats").status_code == 200
        assert client.get(f"{stack.graph_url}/users").status_code == 401  # no token
        discovery = client.get(f"{stack.login_url}/common/discovery/instance")
        assert discovery.status_code == 200
        assert client.get(f"{stack.emply_url}/nobody/roles").status_code in (401, 404)


def test_the_ca_is_needed(stack):
    with (
        httpx.Client(verify=ssl.create_default_context()) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get(f"{stack.control_url}/graph/stats")


def test_emply_control_is_mounted(stack):
    with verified_client(stack) as client:
        response = client.put(f"{stack.control_url}/emply/acme", json={"api_key": "k", "roles": []})
        assert response.status_code == 200, response.text


def test_constructor_settings_reach_the_emulators(stack):
    with verified_client(stack) as client:
        config = client.get(f"{stack.control_url}/graph/config").json()
    assert config["token_lifetime_s"] == 120
    assert config["latency_ms"] == 0


def test_stop_frees_the_ports_and_start_returns_self():
    stack = EmulatorStack()
    assert stack.start() is stack
    port = urlsplit(stack.graph_url).port
    stack.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_fixed_ports_and_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="nonsense"):
        EmulatorStack(ports={"nonsense": 1})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with EmulatorStack(ports={"graph": free_port}, cert_dir=tmp_path) as stack:
        assert stack.graph_url == f"https://127.0.0.1:{free_port}/v1.0"
        assert stack.ca_file == str(tmp_path / "ca.pem")
        first_ca = (tmp_path / "ca.pem").read_bytes()
    with EmulatorStack(cert_dir=tmp_path):
        assert (tmp_path / "ca.pem").read_bytes() == first_ca  # a kept CA is reused


def test_serve_prints_the_env_and_stops_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "entrasync_emulators", "serve"],
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        exports = {}
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                exports[name] = value
            if len(exports) == 4:
                break
        context = ssl.create_default_context(cafile=exports["ENTRASYNC_CA_BUNDLE"])
        base = exports["ENTRASYNC_GRAPH_URL"]
        assert httpx.get(f"{base}/users", verify=context).status_code == 401
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def _serve_json(**popen) -> tuple[subprocess.Popen, dict]:
    process = subprocess.Popen(
        [sys.executable, "-m", "entrasync_emulators", "serve", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )
    return process, json.loads(process.stdout.readline())


def test_serve_json_prints_one_line_and_stops_when_stdin_closes():
    process, started = _serve_json()
    try:
        assert set(started) == {
            "login_url", "graph_url", "emply_url", "control_url", "ca_file", "env"
        }  # fmt: skip
        assert started["env"]["ENTRASYNC_GRAPH_URL"] == started["graph_url"]
        context = ssl.create_default_context(cafile=started["ca_file"])
        assert httpx.get(f"{started['control_url']}/graph/stats", verify=context).status_code == 200
        process.stdin.close()
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""  # the one line, nothing after it
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            assert probe.connect_ex(("127.0.0.1", urlsplit(started["graph_url"]).port)) != 0
    finally:
        process.kill()


def test_serve_json_stops_on_sigterm():
    process, started = _serve_json()
    try:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
