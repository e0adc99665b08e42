"""The demo tenant on a running emulator stack, in a scratch data dir (integration tests)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from entrasync.demo import DEMO_DIR, seed_emulators
from entrasync.emulator_client import EmulatorProcess
from entrasync.scenario.runner import patched_environ


@contextmanager
def demo_tenant(stack: EmulatorProcess, tmp_path: Path):
    """Seed the demo platform afresh; yields (tenants_file, env) with secrets and endpoints set."""
    tenants_file = tmp_path / "tenants.yaml"
    shutil.copy(DEMO_DIR / "tenants.yaml", tenants_file)
    env = stack.env() | seed_emulators(stack.control_url, stack.ca_file, tenants_file)
    env["ENTRASYNC_DATA_DIR"] = str(tmp_path / "data")
    with patched_environ(env):
        yield tenants_file, env
