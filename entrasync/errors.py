"""Errors a user can cause: shown as one line, without a traceback."""


class EntrasyncError(Exception):
    """Base of the errors that are the user's to fix (bad settings, bad export, ...)."""


class SettingsError(EntrasyncError):
    """A tenants file or settings value is wrong; the message names the file and the key."""


class ExtractionError(EntrasyncError):
    """A read failed or came back partial; the run stops before planning (R4)."""


class InputError(EntrasyncError):
    """The extracted input contradicts the settings (unknown role, unknown group, ...)."""


class PathError(EntrasyncError):
    """A path made from a tenant name would land outside its place in the data folder."""


class TenantSettingsError(SettingsError):
    """One tenant's own entry is invalid: that tenant fails alone, the others run."""

    def __init__(self, tenant: str, reason: str) -> None:
        super().__init__(reason)
        self.tenant = tenant

    def __reduce__(self):
        return (type(self), (self.tenant, str(self)))
