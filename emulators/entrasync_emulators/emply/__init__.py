"""Emply People emulator: the Emply API v1 plus a control surface for tests and scenarios."""

from entrasync_emulators.emply.emulator import EmplyEmulator

__all__ = ["EmplyEmulator"]
