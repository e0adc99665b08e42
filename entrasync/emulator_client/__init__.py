"""The product's side of the emulators: start them as a child process, reach them over HTTPS."""

from entrasync.emulator_client.control import ControlSurface, ControlSurfaceError, StackTenant
from entrasync.emulator_client.process import EmulatorProcess, EmulatorStartError

__all__ = [
    "ControlSurface",
    "ControlSurfaceError",
    "EmulatorProcess",
    "EmulatorStartError",
    "StackTenant",
]
