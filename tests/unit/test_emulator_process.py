"""The product starts the emulators as a child process and knows them by URLs and CA alone."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from entrasync.emulator_client import EmulatorProcess, EmulatorStartError, process


def port_is_free(url: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", urlsplit(url).port)) != 0


def test_started_emulators_answer_over_https_and_stop_with_their_process():
    with EmulatorProcess() as emulators:
        urls = (emulators.login_url, emulators.graph_url, emulators.emply_url,
                emulators.control_url)  # fmt: skip
        assert all(urlsplit(url).scheme == "https" for url in urls)
        assert emulators.env() == {
            "ENTRASYNC_AUTHORITY_HOST": emulators.login_url,
            "ENTRASYNC_GRAPH_URL": emulators.graph_url,
            "ENTRASYNC_EMPLY_URL": emulators.emply_url,
            "ENTRASYNC_CA_BUNDLE": emulators.ca_file,
        }
        with emulators.control() as control:
            assert control.graph_stats()["requests"] == 0
        with pytest.raises(httpx.ConnectError):  # only with the emulators' CA
            httpx.get(f"{emulators.control_url}/graph/stats", verify=ssl.create_default_context())
        child = emulators.process
    assert child.returncode == 0  # stopped cleanly when its stdin closed
    assert all(port_is_free(url) for url in urls)
    assert not Path(emulators.ca_file).exists()


def test_a_parent_that_dies_takes_its_emulators_with_it():
    parent = subprocess.run(
        [sys.executable, "-c",
         "import json, os; from entrasync.emulator_client import EmulatorProcess; "
         "e = EmulatorProcess().start(); print(json.dumps([e.graph_url, e.process.pid]), "
         "flush=True); os._exit(9)"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert parent.returncode == 9, parent.stderr
    graph_url, child_pid = json.loads(parent.stdout)
    waited = subprocess.run(  # the orphan exits once it sees its stdin closed
        [sys.executable, "-c", f"import os, time\nwhile os.path.exists('/proc/{child_pid}'):\n"
         "    time.sleep(0.1)"],
        timeout=30,
    )  # fmt: skip
    assert waited.returncode == 0
    assert port_is_free(graph_url)


def test_missing_emulators_are_one_line(monkeypatch):
    monkeypatch.setattr(process, "PACKAGE", "entrasync_emulators_not_installed")
    with pytest.raises(EmulatorStartError, match="not installed: they come with the dev"):
        EmulatorProcess([sys.executable, "-m", process.PACKAGE, "serve", "--json"]).start()


@pytest.mark.parametrize(
    ("program", "said"),
    [("raise SystemExit(3)", "exited with code 3"), ("print('hello')", "said 'hello'")],
)
def test_a_child_that_does_not_start_is_one_line(program, said):
    emulators = EmulatorProcess([sys.executable, "-c", program])
    with pytest.raises(EmulatorStartError, match=f"did not start: the child process {said}"):
        emulators.start()
    assert emulators.process is None
