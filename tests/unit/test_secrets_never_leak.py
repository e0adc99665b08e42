"""Neither the Graph client secret (a Prefect Secret block) nor the Emply API key (env, and in
every Emply request URL) shows in logs, artifacts, the warehouse, the history or exceptions."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

import flows.sync_tenant  # noqa: F401  (imports prefect.main, which configures logging once)
from entrasync.cli import main as entrasync_cli
from entrasync.emulator_client import EmulatorProcess
from entrasync.warehouse.db import warehouse_path
from flows.launch import run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from demo_tenant import demo_tenant  # noqa: E402  (the integration tests' helper)

GRAPH_SECRET_BLOCK = "demo-graph-client-secret"
# The emulators' web servers run in this process; their access log is the far side's, not ours.
EMULATOR_LOGGERS = ("uvicorn",)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        # with a formatter Prefect counts it as the user's and leaves the root logger alone
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(EMULATOR_LOGGERS):
            return
        self.lines.append(self.format(record))  # message, arguments and traceback


@contextmanager
def every_log_record_at_debug() -> Iterator[Collect]:
    """Root and every logger that does not propagate (Prefect's own) at DEBUG, into one list."""
    collect = Collect()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.addHandler(collect)
        logger.setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore", "msal", "urllib3", "prefect"):
        levels.setdefault(logging.getLogger(name), logging.getLogger(name).level)
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield collect
    finally:
        for logger, level in levels.items():
            logger.setLevel(level)
            logger.removeHandler(collect)


@pytest.fixture(scope="module")
def stack():
    with EmulatorProcess() as running:
        yield running


def store_secret_with_the_cli(name: str, value: str, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(value + "\n"))
    with pytest.raises(SystemExit) as exit_code:
        entrasync_cli(["secrets", "set", name])
    assert exit_code.value.code == 0


def everything_written(tenant: str, data_dir: Path) -> dict[str, str]:
    """The warehouse (every table's rows and the raw file), history files, artifacts, runs."""
    path = warehouse_path(tenant)
    written = {"warehouse file": path.read_bytes().decode("latin-1")}
    with duckdb.connect(str(path), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            written[f"table {table}"] = repr(con.execute(f"SELECT * FROM {table}").fetchall())
    for file in sorted(data_dir.rglob("*")):
        if file.is_file() and file != path:
            written[f"file {file.relative_to(data_dir)}"] = file.read_bytes().decode("latin-1")
    with get_client(sync_client=True) as client:
        # this tenant's artifacts only: other tests' runs share the session's Prefect database
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=f"sync-{tenant}%"))
        )
        written["artifacts"] = repr([(a.key, a.description, a.data) for a in artifacts])
        written["flow runs"] = repr([(r.name, r.state) for r in client.read_flow_runs()])
    return written


def test_secrets_never_leak(stack, tmp_path, monkeypatch):
    with (
        # Prefect's temporary server may start here, slowly on a busy machine
        temporary_settings({PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120}),
        demo_tenant(stack, tmp_path) as (tenants_file, env),
    ):
        graph_secret, emply_key = env["ENTRASYNC_DEMO_SECRET"], env["ENTRASYNC_DEMO_EMPLY_KEY"]
        store_secret_with_the_cli(GRAPH_SECRET_BLOCK, graph_secret, monkeypatch)
        settings = yaml.safe_load(tenants_file.read_text())
        settings["tenants"][0]["credential"] = {"prefect_secret": GRAPH_SECRET_BLOCK}
        tenants_file.write_text(yaml.safe_dump(settings))
        monkeypatch.delenv("ENTRASYNC_DEMO_SECRET")  # the block is now the only source

        control = stack.control()
        with every_log_record_at_debug() as logs:
            synced = run_sync("demo", tenants_file=str(tenants_file))
            fault = {"path": "/exports", "status": 400, "times": 5}
            control.emply_op("demo", "fault", fault)
            failed = run_sync("demo", tenants_file=str(tenants_file))

        assert synced["status"] == "completed" and synced["changes"]["create_user"] == 141
        assert failed["status"] == "failed" and "400" in failed["error"]
        log_text = "\n".join(logs.lines)
        # the check below means something: Emply URLs and the failure were logged at DEBUG
        assert "apiKey=***" in log_text and "HTTP Request: GET" in log_text
        assert failed["error"] in log_text
        written = everything_written("demo", Path(env["ENTRASYNC_DATA_DIR"]))
        written |= {"logs": log_text, "failed run": repr(failed), "completed run": repr(synced)}
        assert "create_user" in written["artifacts"] and "400" in written["artifacts"]
        for secret_name, secret in (("Graph secret", graph_secret), ("Emply key", emply_key)):
            leaks = {at: _around(text, secret) for at, text in written.items() if secret in text}
            assert not leaks, f"the {secret_name} shows in: {leaks}"


def _around(text: str, secret: str) -> str:
    at = text.index(secret)
    return text[max(0, at - 300) : at + 60].replace(secret, "<SECRET>")
