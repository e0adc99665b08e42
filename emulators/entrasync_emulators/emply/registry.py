"""The customers an emulator serves, behind one lock shared by the API and control apps."""

import threading

from entrasync_emulators.emply.errors import not_found
from entrasync_emulators.emply.state import CustomerState


class CustomerRegistry:
    """Customer name -> state. Hold `lock` for every read or change of any customer's state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, CustomerState] = {}

    def get(self, customer: str) -> CustomerState:
        state = self.customers.get(customer)
        if state is None:
            raise not_found(f"unknown Emply customer {customer!r}")
        return state
