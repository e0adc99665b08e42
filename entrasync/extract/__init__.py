"""Extract stage: read Entra (directory, mailboxes, photos) and Emply into the tenant's warehouse.

A failed or partial read raises and leaves the tables as they were (R4: the run stops before
planning). What to read beyond the directories (whose calendars, events and photos) is decided
by rules/reads/.
"""

from entrasync.extract.emply import extract_emply
from entrasync.extract.entra import extract_entra
from entrasync.extract.mailboxes import extract_mailboxes

__all__ = ["extract_emply", "extract_entra", "extract_mailboxes"]
