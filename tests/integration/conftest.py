"""Integration fixtures: one emulator stack per session, on loopback."""

import pytest

from entrasync.emulator_client import EmulatorProcess


@pytest.fixture(scope="session")
def stack():
    with EmulatorProcess() as running:
        yield running
