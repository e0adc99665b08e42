"""Everything one Graph emulator holds: tenants, config, counters and the token signer."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from entrasync_emulators.graph.config import GraphConfig
from entrasync_emulators.graph.directory import TenantDirectory
from entrasync_emulators.graph.stats import RequestStats
from entrasync_emulators.graph.tokens import TokenSigner


class GraphState:
    """Tenants keyed by Entra tenant id; one lock guards every read and write of them."""

    def __init__(self, config: GraphConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.tenants: dict[str, TenantDirectory] = {}
        self.config = config or GraphConfig()
        self.stats = RequestStats()
        self.signer = TokenSigner()

    def reset_tenant(
        self, tenant_id: str, domains: Iterable[str], client_id: str, client_secret: str
    ) -> TenantDirectory:
        with self.lock:
            tenant = TenantDirectory(tenant_id, domains, client_id, client_secret)
            old = self.tenants.get(tenant_id)
            if old is not None:
                # Delta tokens issued before the reset must not survive it.
                tenant.sync_generation = old.sync_generation + 1
            self.tenants[tenant_id] = tenant
            return tenant

    def find_tenant(self, key: str) -> TenantDirectory | None:
        """A tenant by id, or by one of its verified domains (as login.microsoftonline.com)."""
        with self.lock:
            tenant = self.tenants.get(key)
            if tenant is not None:
                return tenant
            lowered = key.lower()
            for candidate in self.tenants.values():
                if candidate.tenant_id.lower() == lowered or lowered in candidate.verified_domains:
                    return candidate
            return None
