"""The Prefect UI in headless Chromium: a tenant run's page and its artifact pages.

Screenshots land in test-output/prefect-ui/ (git-ignored): flow-run.png, change-table.png,
outcome.png. Assertions read the rendered DOM (--dump-dom) of the same pages.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fleet import seed_fleet
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_stack import CHECKOUT, prefect_server

# starts real servers: one such test at a time across the xdist workers (tests/conftest.py)
pytestmark = [pytest.mark.timeout(600, func_only=True), pytest.mark.real_prefect_servers]

TENANT = "contoso"
SHOTS = CHECKOUT / "test-output" / "prefect-ui"
CHROMIUM = "/usr/bin/chromium"


def chromium(url: str, profile: Path, *mode: str) -> str:
    """One headless page load; the UI is a JS app, so give it virtual time to fetch and draw."""
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-quic", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--window-size=1400,1000",
            "--virtual-time-budget=15000",
            # nothing but loopback resolves: the UI may only talk to the local API
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            *mode, url,
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def page_text(url: str, profile: Path, screenshot: Path) -> str:
    """The page's visible text (tags stripped), after saving a screenshot of it."""
    chromium(url, profile, f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 20_000, f"{screenshot} looks blank"
    dom = chromium(url, profile, "--dump-dom")
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.mark.slow
def test_tenant_run_and_its_artifacts_in_the_prefect_ui(stack, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tenants_file, _, env = seed_fleet(stack, tmp_path, [TENANT])
    with prefect_server(tmp_path) as server:
        sync_env = server.env(PREFECT_LOGGING_LEVEL="INFO", **env)
        server.run("sync", [sys.executable, "-m", "entrasync", "sync", "--tenant", TENANT],
                   sync_env)  # fmt: skip
        with (
            temporary_settings({PREFECT_API_URL: server.api_url}),
            get_client(sync_client=True) as client,
        ):
            (run,) = client.read_flow_runs()
            keys = [f"sync-{TENANT}", f"sync-{TENANT}-outcome"]
            artifacts = {
                a.key: a
                for a in client.read_artifacts(
                    artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
                )
            }
        profile = tmp_path / "chromium-profile"

        run_page = page_text(
            f"{server.url}/runs/flow-run/{run.id}", profile, SHOTS / "flow-run.png"
        )
        assert f"sync-{TENANT}" in run_page and "Completed" in run_page, run_page[:2000]
        assert "sync-tenant" in run_page and "Task runs" in run_page

        table_page = page_text(
            f"{server.url}/artifacts/artifact/{artifacts[keys[0]].id}",
            profile,
            SHOTS / "change-table.png",
        )
        assert f"Tenant {TENANT}: completed" in table_page, table_page[:2000]
        assert "kind planned applied failed skipped" in table_page
        for row in ("create_user 141 141 0 0", "link_user 73 73 0 0", "total 242 242 0 0"):
            assert row in table_page, table_page[:2000]

        outcome_page = page_text(
            f"{server.url}/artifacts/artifact/{artifacts[keys[1]].id}", profile,
            SHOTS / "outcome.png",
        )  # fmt: skip
        assert f"Tenant {TENANT}: completed" in outcome_page, outcome_page[:2000]
        assert "Failed writes: 0" in outcome_page and "Review queue: 0" in outcome_page
