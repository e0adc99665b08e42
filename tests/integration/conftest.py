"""Integration fixtures: one emulator stack per session, on loopback."""

import pytest

from entrasync.emulators.stack import EmulatorStack


@pytest.fixture(scope="session")
def stack():
    with EmulatorStack() as running:
        yield running
