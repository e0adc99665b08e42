"""Run-time knobs of the Graph and login emulators, changed through the control surface."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields


@dataclass
class GraphConfig:
    """Latency, token lifetime and throttling limits; `update` validates every key."""

    latency_ms: float = 0.0
    token_lifetime_s: int = 3600
    # Outlook limits per app and mailbox (calendars, events, photos).
    mailbox_concurrency: int = 4
    mailbox_requests_per_window: int = 10_000
    mailbox_window_s: float = 600.0
    # Identity token bucket per app+tenant; None switches it off (the default).
    identity_ru_per_window: int | None = None
    identity_window_s: float = 10.0
    # Directory delta tokens stay valid this long (Microsoft: 7 days).
    delta_token_lifetime_s: float = 7 * 24 * 3600.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}

    def update(self, changes: dict[str, object]) -> None:
        """Apply `changes`; raise ValueError naming the first unknown key or bad value."""
        known = {field.name: field for field in fields(self)}
        checked: dict[str, object] = {}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown config key {key!r}; known: {sorted(known)}")
            optional = key == "identity_ru_per_window"
            if value is None and optional:
                checked[key] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"config {key}: expected a number >= 0, got {value!r}")
            checked[key] = value
        with self._lock:
            for key, value in checked.items():
                setattr(self, key, value)
