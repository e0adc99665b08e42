"""Prefect's environment defaults for entrasync's processes, set before Prefect is imported."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # Prefect never calls home
    # A first start migrates a fresh SQLite file; on a busy 2-core machine that takes > 20 s.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}
# Commands and tests show warnings and errors; a run's INFO lines go to its Prefect logs.
QUIET = {"PREFECT_LOGGING_LEVEL": "WARNING"}


def set_prefect_defaults(
    quiet: bool = False, environ: MutableMapping[str, str] = os.environ
) -> None:
    """Each default where the environment does not say otherwise (`quiet`: WARNING logs too)."""
    for name, value in (PREFECT_DEFAULTS | (QUIET if quiet else {})).items():
        environ.setdefault(name, value)
