"""A flow for the warm-worker tests: says where it ran, crashes hard, or waits for a cancel."""

from __future__ import annotations

import json
import os
import signal
import time

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.settings import get_current_settings


@flow(name="warm-probe", flow_run_name="probe-{action}")
def warm_probe(action: str) -> None:
    if action == "crash":  # as a segfault would: no exception, no state reported by the run
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "sleep":
        time.sleep(600)
    seen = {
        "pid": os.getpid(),
        "parent": os.getppid(),
        "api_url": get_current_settings().api.url,
        "task_retries": get_current_settings().tasks.default_retries,
        "probe_env": os.environ.get("ENTRASYNC_PROBE"),
    }
    create_markdown_artifact(json.dumps(seen), key=f"warm-probe-{action}")
