"""One Entra tenant's directory: users, groups, memberships, mailboxes and pending faults."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from entrasync_emulators.graph.clock import new_object_id, utc_now
from entrasync_emulators.graph.mailbox import Mailbox, new_calendar
from entrasync_emulators.graph.schema import USER_WRITABLE_PROPERTIES

Record = dict[str, Any]
USER_KIND = "user"
GROUP_KIND = "group"


class DirectoryError(Exception):
    """A request the directory refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Fault:
    """The next `remaining` Graph requests under `path` fail with `status`."""

    path: str  # lower case, relative to /v1.0, with a leading slash
    status: int
    remaining: int
    retry_after: float | None = None


def _nickname(upn: str) -> str:
    return upn.split("@", 1)[0]


class TenantDirectory:
    """Users, groups and memberships of one tenant; all mutation goes through these methods."""

    def __init__(
        self, tenant_id: str, domains: Iterable[str], client_id: str, client_secret: str
    ) -> None:
        self.tenant_id = tenant_id
        self.domains = [domain.strip().lower() for domain in domains if domain.strip()]
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, Record] = {}
        self.deleted_users: dict[str, Record] = {}
        self.upn_index: dict[str, str] = {}  # lower-cased UPN -> id, active users only
        self.deleted_upn_index: dict[str, str] = {}  # original lower-cased UPN -> id
        self.groups: dict[str, Record] = {}
        self.group_name_index: dict[str, str] = {}
        self.members: dict[str, dict[str, None]] = {}  # group id -> member ids (ordered)
        self.member_of: dict[str, dict[str, None]] = {}  # member id -> group ids
        self.mailboxes: dict[str, Mailbox] = {}
        # Members created through Graph (POST /users) have no licence, so no mailbox (guests
        # never have one in this tenant); users added by ops and seeds have one.
        self.unlicensed: set[str] = set()
        self.faults: list[Fault] = []
        # (kind, object id, member id or None) in order; delta tokens hold a position in it.
        self.change_log: list[tuple[str, str, str | None]] = []
        self.sync_generation = 0  # bumped when old delta tokens must stop working
        # delta tokens name the directory they came from: another process's tenant refuses them
        self.instance = uuid.uuid4().hex
        self.delta_sessions: dict[str, Any] = {}  # skiptoken session id -> prepared pages
        self.version = 0
        self._cache: dict[Any, Any] = {}

    # ----------------------------------------------------------------- domains
    @property
    def initial_domain(self) -> str:
        for domain in self.domains:
            if domain.endswith(".onmicrosoft.com"):
                return domain
        base = self.domains[0].split(".", 1)[0] if self.domains else self.tenant_id
        return f"{base}.onmicrosoft.com"

    @property
    def verified_domains(self) -> list[str]:
        initial = self.initial_domain
        return self.domains + ([] if initial in self.domains else [initial])

    # ------------------------------------------------------------ bookkeeping
    def _touch(
        self, kind: str | None = None, object_id: str = "", member: str | None = None
    ) -> None:
        self.version += 1
        if self._cache:
            self._cache.clear()
        if kind:
            self.change_log.append((kind, object_id, member))

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """Memoise a derived view (listing, transitive closure) until the next mutation."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # ----------------------------------------------------------------- lookup
    def find_user(self, reference: str) -> str | None:
        """Active user id by id, UPN, or (unique) mail; case-insensitive."""
        if reference in self.users:
            return reference
        lowered = reference.strip().lower()
        found = self.upn_index.get(lowered)
        if found:
            return found
        matches = [
            user_id
            for user_id, user in self.users.items()
            if (user["mail"] or "").lower() == lowered
        ]
        return matches[0] if len(matches) == 1 else None

    def find_deleted_user(self, reference: str) -> str | None:
        if reference in self.deleted_users:
            return reference
        lowered = reference.strip().lower()
        found = self.deleted_upn_index.get(lowered)
        if found:
            return found
        for user_id, user in self.deleted_users.items():
            if (user["mail"] or "").lower() == lowered:
                return user_id
        return None

    def find_group(self, reference: str) -> str | None:
        if reference in self.groups:
            return reference
        return self.group_name_index.get(reference.strip().lower())

    def require_user(self, reference: str) -> str:
        user_id = self.find_user(reference)
        if user_id is None:
            raise DirectoryError(404, f"user {reference!r} not found")
        return user_id

    def require_group(self, reference: str) -> str:
        group_id = self.find_group(reference)
        if group_id is None:
            raise DirectoryError(404, f"group {reference!r} not found")
        return group_id

    # ------------------------------------------------------------------ users
    def guest_upn(self, mail: str) -> str:
        local, _, domain = mail.strip().partition("@")
        return f"{local}_{domain}#EXT#@{self.initial_domain}"

    def create_user(self, props: Record, *, log: bool = True, licensed: bool = True) -> Record:
        """Add a user from Graph-named properties; defaults follow SPEC's add_user.

        `onPremisesSyncEnabled` is null unless given: Graph's value for a user never synced
        from on-premises. An unlicensed user (`licensed=False`) has no mailbox.
        """
        user_type = props.get("userType") or "Member"
        upn = props.get("userPrincipalName")
        mail = props.get("mail")
        if not upn:
            if user_type == "Guest" and mail:
                upn = self.guest_upn(mail)
            else:
                raise DirectoryError(400, "userPrincipalName (upn) is required")
        if upn.lower() in self.upn_index:
            raise DirectoryError(
                400,
                "Another object with the same value for property userPrincipalName already exists.",
            )
        user_id = props.get("id") or new_object_id()
        if user_id in self.users or user_id in self.deleted_users or user_id in self.groups:
            raise DirectoryError(400, f"object id {user_id!r} already exists")
        now = utc_now()
        nickname = _nickname(upn)
        given, surname = props.get("givenName"), props.get("surname")
        record: Record = {
            "id": user_id,
            "userPrincipalName": upn,
            "mail": None,
            "otherMails": [],
            "displayName": " ".join(p for p in (given, surname) if p) or nickname,
            "givenName": None,
            "surname": None,
            "jobTitle": None,
            "department": None,
            "mobilePhone": None,
            "businessPhones": [],
            "officeLocation": None,
            "preferredLanguage": None,
            "accountEnabled": True,
            "userType": user_type,
            "onPremisesSyncEnabled": None,
            "createdDateTime": now,
            "mailNickname": nickname,
            "proxyAddresses": [],
            "employeeId": None,
            "companyName": None,
            "usageLocation": None,
            "creationType": "Invitation" if user_type == "Guest" else None,
            "externalUserState": "Accepted" if user_type == "Guest" else None,
            "deletedDateTime": None,
        }
        for key in USER_WRITABLE_PROPERTIES:
            if key in props and key != "passwordProfile":
                record[key] = props[key]
        record["userPrincipalName"] = upn
        if record["otherMails"] is None:
            record["otherMails"] = []
        if record["mail"]:
            record["proxyAddresses"] = [f"SMTP:{record['mail']}"]
        self.users[user_id] = record
        self.upn_index[upn.lower()] = user_id
        if not licensed:
            self.unlicensed.add(user_id)
        self._touch(USER_KIND if log else None, user_id)
        return record

    def update_user(self, user_id: str, changes: Record) -> Record:
        """Apply Graph-named changes to an active user (UPN changes keep the id)."""
        record = self.users[user_id]
        new_upn = changes.get("userPrincipalName")
        if new_upn and new_upn.lower() != record["userPrincipalName"].lower():
            if new_upn.lower() in self.upn_index:
                raise DirectoryError(
                    400,
                    "Another object with the same value for property userPrincipalName "
                    "already exists.",
                )
            del self.upn_index[record["userPrincipalName"].lower()]
            self.upn_index[new_upn.lower()] = user_id
        for key, value in changes.items():
            if key != "passwordProfile":
                record[key] = value
        if "mail" in changes:
            record["proxyAddresses"] = [f"SMTP:{record['mail']}"] if record["mail"] else []
        if record["otherMails"] is None:
            record["otherMails"] = []
        self._touch(USER_KIND, user_id)
        return record

    def soft_delete_user(self, user_id: str) -> Record:
        """Move a user to deleted items; memberships are kept but no longer listed."""
        record = self.users.pop(user_id)
        original_upn = record["userPrincipalName"]
        del self.upn_index[original_upn.lower()]
        # Entra renames a deleted user's UPN to <object id without dashes><original UPN>.
        record["userPrincipalName"] = user_id.replace("-", "") + original_upn
        record["deletedDateTime"] = utc_now()
        self.deleted_users[user_id] = record
        self.deleted_upn_index[original_upn.lower()] = user_id
        self._touch(USER_KIND, user_id)
        return record

    def original_upn(self, user_id: str) -> str:
        record = self.users.get(user_id)
        if record is not None:
            return record["userPrincipalName"]
        mangled = self.deleted_users[user_id]["userPrincipalName"]
        return mangled[len(user_id.replace("-", "")) :]

    # ----------------------------------------------------------------- groups
    def create_group(self, name: str, group_id: str | None = None, *, log: bool = True) -> Record:
        if name.strip().lower() in self.group_name_index:
            raise DirectoryError(400, f"group {name!r} already exists")
        group_id = group_id or new_object_id()
        if group_id in self.groups or group_id in self.users or group_id in self.deleted_users:
            raise DirectoryError(400, f"object id {group_id!r} already exists")
        now = utc_now()
        sid_parts = uuid.UUID(group_id).int if _is_guid(group_id) else hash(group_id)
        record: Record = {
            "id": group_id,
            "deletedDateTime": None,
            "classification": None,
            "createdDateTime": now,
            "description": None,
            "displayName": name,
            "expirationDateTime": None,
            "groupTypes": [],
            "isAssignableToRole": None,
            "mail": None,
            "mailEnabled": False,
            "mailNickname": "".join(ch for ch in name if ch.isalnum()) or "group",
            "membershipRule": None,
            "membershipRuleProcessingState": None,
            "onPremisesLastSyncDateTime": None,
            "onPremisesSecurityIdentifier": None,
            "onPremisesSyncEnabled": None,
            "preferredDataLocation": None,
            "preferredLanguage": None,
            "proxyAddresses": [],
            "renewedDateTime": now,
            "resourceBehaviorOptions": [],
            "resourceProvisioningOptions": [],
            "securityEnabled": True,
            "securityIdentifier": f"S-1-12-1-{abs(sid_parts) % 4294967296}",
            "theme": None,
            "visibility": None,
            "onPremisesProvisioningErrors": [],
        }
        self.groups[group_id] = record
        self.group_name_index[name.strip().lower()] = group_id
        self.members[group_id] = {}
        self._touch(GROUP_KIND if log else None, group_id)
        return record

    def delete_group(self, group_id: str) -> Record:
        """Security groups are deleted for good (only Microsoft 365 groups are restorable)."""
        record = self.groups.pop(group_id)
        del self.group_name_index[record["displayName"].strip().lower()]
        for member_id in self.members.pop(group_id):
            self.member_of.get(member_id, {}).pop(group_id, None)
        for parent_id in list(self.member_of.pop(group_id, {})):
            self.members.get(parent_id, {}).pop(group_id, None)
            self.change_log.append((GROUP_KIND, parent_id, group_id))
        self._touch(GROUP_KIND, group_id)
        return record

    def add_member(self, group_id: str, member_id: str, *, log: bool = True) -> None:
        current = self.members[group_id]
        if member_id in current:
            raise DirectoryError(
                400,
                "One or more added object references already exist for the following "
                "modified properties: 'members'.",
            )
        if member_id == group_id:
            raise DirectoryError(400, "a group cannot be a member of itself")
        current[member_id] = None
        self.member_of.setdefault(member_id, {})[group_id] = None
        self._touch(GROUP_KIND if log else None, group_id, member_id)

    def remove_member(self, group_id: str, member_id: str) -> None:
        current = self.members[group_id]
        if member_id not in current:
            raise DirectoryError(404, "the object is not a member of the group")
        del current[member_id]
        self.member_of.get(member_id, {}).pop(group_id, None)
        self._touch(GROUP_KIND, group_id, member_id)

    # ---------------------------------------------------------------- reading
    def active_users(self) -> list[Record]:
        return self.cached("active_users", lambda: list(self.users.values()))

    def direct_members(self, group_id: str) -> list[tuple[str, Record]]:
        """(kind, record) of the listed members: deleted users are left out."""

        def build() -> list[tuple[str, Record]]:
            listed: list[tuple[str, Record]] = []
            for member_id in self.members[group_id]:
                user = self.users.get(member_id)
                if user is not None:
                    listed.append((USER_KIND, user))
                elif member_id in self.groups:
                    listed.append((GROUP_KIND, self.groups[member_id]))
            return listed

        return self.cached(("members", group_id), build)

    def transitive_members(self, group_id: str) -> list[tuple[str, Record]]:
        """Members of the group and of every nested group, each once, breadth first."""

        def build() -> list[tuple[str, Record]]:
            seen: set[str] = {group_id}
            listed: list[tuple[str, Record]] = []
            queue = [group_id]
            while queue:
                current = queue.pop(0)
                for kind, record in self.direct_members(current):
                    if record["id"] in seen:
                        continue
                    seen.add(record["id"])
                    listed.append((kind, record))
                    if kind == GROUP_KIND:
                        queue.append(record["id"])
            return listed

        return self.cached(("transitive", group_id), build)

    def group_names_of(self, member_id: str) -> list[str]:
        return sorted(
            self.groups[group_id]["displayName"]
            for group_id in self.member_of.get(member_id, {})
            if group_id in self.groups
        )

    # --------------------------------------------------------------- mailbox
    def has_mailbox(self, user_id: str) -> bool:
        """A guest (B2B) has no mailbox in this tenant, nor has an unlicensed member."""
        record = self.users.get(user_id) or self.deleted_users.get(user_id) or {}
        return record.get("userType") != "Guest" and user_id not in self.unlicensed

    def mailbox(self, user_id: str) -> Mailbox:
        """The user's mailbox, created on first use with the default calendar `Calendar`."""
        box = self.mailboxes.get(user_id)
        if box is None:
            box = Mailbox()
            default = new_calendar(user_id, "Calendar", can_edit=True, is_default=True)
            box.calendars[default["id"]] = default
            box.events[default["id"]] = []
            self.mailboxes[user_id] = box
        return box

    def touch_mailbox(self) -> None:
        self._touch()


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
