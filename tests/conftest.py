"""Test-session settings: a private Prefect home, quiet logs, no telemetry, no network."""

import os
import tempfile

# Before anything imports Prefect: a private home (its temporary server's SQLite file) so test
# runs never share state with a developer's Prefect or with each other.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="entrasync-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A first start migrates a fresh SQLite file; on a busy 2-core machine that takes > 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
