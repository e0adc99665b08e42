"""Starts the login, Graph, Emply and control emulators as HTTPS servers in one process."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from entrasync_emulators.certs import (
    CertificateFiles,
    load_or_write_certificates,
    write_certificates,
)
from entrasync_emulators.graph import GraphConfig, GraphEmulator
from entrasync_emulators.login import create_login_app
from entrasync_emulators.login_faults import LoginFaults, create_login_control_app

SERVER_NAMES = ("login", "graph", "emply", "control")
STARTUP_TIMEOUT_S = 15.0


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP makes asyncio set TCP_NODELAY on accepted connections; with proto 0
    # Nagle holds back the response body until the client's delayed ACK (+40 ms a request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class _ServerThread:
    """One uvicorn server on an already bound socket, run in a daemon thread."""

    def __init__(self, name: str, app: ASGIApp, sock: socket.socket, certs: CertificateFiles):
        self.name = name
        self.socket = sock
        config = uvicorn.Config(
            app,
            ssl_certfile=str(certs.cert_file),
            ssl_keyfile=str(certs.key_file),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)  # signal handlers are only installed on main thread
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [sock]},
            name=f"entrasync-{name}-emulator",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]


class EmulatorStack:
    """The four emulators on loopback ports with one trustme CA; see docs/DESIGN.md."""

    def __init__(
        self,
        token_lifetime_s: int = 3600,
        latency_ms: float = 0,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        cert_dir: Path | str | None = None,
    ) -> None:
        unknown = set(ports or {}) - set(SERVER_NAMES)
        if unknown:
            raise ValueError(f"unknown server names in ports: {sorted(unknown)}")
        self.host = host
        self.ports = dict(ports or {})
        self.cert_dir = Path(cert_dir) if cert_dir else None
        self.graph = GraphEmulator(
            GraphConfig(latency_ms=latency_ms, token_lifetime_s=token_lifetime_s)
        )
        self.emply = None
        self.login_faults = LoginFaults()
        self.certs: CertificateFiles | None = None
        self._servers: list[_ServerThread] = []
        self.login_url = self.graph_url = self.emply_url = self.control_url = ""
        self.ca_file = ""

    def _apps(self) -> dict[str, ASGIApp]:
        from entrasync_emulators.emply import EmplyEmulator

        self.emply = EmplyEmulator()
        control = Starlette(
            routes=[
                Mount("/graph", app=self.graph.control_app),
                Mount("/emply", app=self.emply.control_app),
                Mount("/login", app=create_login_control_app(self.login_faults)),
            ]
        )
        return {
            "login": create_login_app(self.graph.state, self.login_faults),
            "graph": self.graph.api_app,
            "emply": self.emply.api_app,
            "control": control,
        }

    def start(self) -> EmulatorStack:
        """Start every server and wait until each accepts connections; returns self."""
        if self._servers:
            return self
        self.certs = (
            load_or_write_certificates(self.cert_dir) if self.cert_dir else write_certificates()
        )
        for name, app in self._apps().items():
            sock = _bind(self.host, self.ports.get(name, 0))
            self._servers.append(_ServerThread(name, app, sock, self.certs))
        for server in self._servers:
            server.thread.start()
        self._wait_until_started()
        public_host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        base = {server.name: f"https://{public_host}:{server.port}" for server in self._servers}
        self.login_url = base["login"]
        self.graph_url = base["graph"] + "/v1.0"
        self.emply_url = base["emply"] + "/v1"
        self.control_url = base["control"]
        self.ca_file = str(self.certs.ca_file)
        return self

    def _wait_until_started(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        for server in self._servers:
            while not server.server.started:
                if not server.thread.is_alive() or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the {server.name} emulator did not start")
                time.sleep(0.01)

    def stop(self) -> None:
        for server in self._servers:
            # force_exit: do not wait for clients' idle keep-alive connections to close.
            server.server.should_exit = True
            server.server.force_exit = True
        for server in self._servers:
            if server.thread.is_alive():
                server.thread.join(timeout=5)
            server.socket.close()
        self._servers = []
        if self.certs is not None and self.cert_dir is None:
            shutil.rmtree(self.certs.directory, ignore_errors=True)
        self.certs = None

    def env(self) -> dict[str, str]:
        """The four variables that point the pipeline at this stack (docs/DESIGN.md)."""
        return {
            "ENTRASYNC_AUTHORITY_HOST": self.login_url,
            "ENTRASYNC_GRAPH_URL": self.graph_url,
            "ENTRASYNC_EMPLY_URL": self.emply_url,
            "ENTRASYNC_CA_BUNDLE": self.ca_file,
        }

    def __enter__(self) -> EmulatorStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
