"""What one sync run of one tenant works with: its settings, run id, endpoints and deadline."""

from __future__ import annotations

from dataclasses import dataclass, field

from entrasync.endpoints import Endpoints
from entrasync.run.deadline import RunDeadline
from entrasync.settings import TenantSettings


@dataclass(frozen=True)
class RunContext:
    settings: TenantSettings
    run_id: str
    endpoints: Endpoints
    dry_run: bool = False
    allow_deactivations: bool = False
    deadline: RunDeadline = field(default_factory=RunDeadline.unbounded)

    @property
    def tenant(self) -> str:
        return self.settings.name
