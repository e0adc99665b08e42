"""What one sync run of one tenant works with: its settings, run id and endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from entrasync.settings import Endpoints, TenantSettings


@dataclass(frozen=True)
class RunContext:
    settings: TenantSettings
    run_id: str
    endpoints: Endpoints
    dry_run: bool = False
    allow_deactivations: bool = False

    @property
    def tenant(self) -> str:
        return self.settings.name
