"""EmplyEmulator: one shared customer registry served as the Emply API and its control app."""

from entrasync_emulators.emply.api import build_api_app
from entrasync_emulators.emply.control import build_control_app
from entrasync_emulators.emply.registry import CustomerRegistry
from entrasync_emulators.emply.state import CustomerState


class EmplyEmulator:
    """`api_app` serves /v1/{customer}/...; `control_app` serves /{customer}/... and /stats."""

    def __init__(self) -> None:
        self.registry = CustomerRegistry()
        self.api_app = build_api_app(self.registry)
        self.control_app = build_control_app(self.registry)

    def customer(self, customer: str) -> CustomerState:
        """Direct access to one customer's state (in-process tests; hold `registry.lock`)."""
        return self.registry.get(customer)
