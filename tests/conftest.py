"""Test-session settings: a private Prefect home, quiet logs, no telemetry, no network."""

import os
import tempfile

from entrasync.prefect_env import set_prefect_defaults

# Before anything imports Prefect: a private home (its temporary server's SQLite file) so test
# runs never share state with a developer's Prefect or with each other.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="entrasync-prefect-"))
set_prefect_defaults(quiet=True)
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
