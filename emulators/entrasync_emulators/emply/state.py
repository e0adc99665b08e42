"""One Emply customer's data (roles, users, employees) and the changes both sides make to it."""

import uuid
from dataclasses import dataclass, field

from entrasync_emulators.emply.errors import bad_request, conflict, not_found
from entrasync_emulators.emply.models import (
    BadExportRow,
    Counters,
    Employee,
    Event,
    Fault,
    Role,
    User,
)

EXPORT_KINDS = ("users", "employees", "roles", "calendars", "events")


def new_id() -> str:
    return str(uuid.uuid4())


def fold(text: str) -> str:
    """Key for case-insensitive, trimmed comparison of usernames, e-mails and object ids."""
    return text.strip().casefold()


@dataclass
class CustomerState:
    """Everything one customer holds; callers hold the emulator lock while using it."""

    api_key: str
    export_ids: dict[str, str] = field(default_factory=lambda: {k: k for k in EXPORT_KINDS})
    roles: dict[str, Role] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    user_id_by_username: dict[str, str] = field(default_factory=dict)
    user_id_by_external_id: dict[str, str] = field(default_factory=dict)
    employees: dict[str, Employee] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    event_ids_by_calendar: dict[str, set[str]] = field(default_factory=dict)
    emply_event_ids: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    bad_export_rows: list[BadExportRow] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)

    # roles

    def add_role(self, name: str, is_admin: bool = False) -> Role:
        if name in self.roles:
            raise conflict(f"role {name!r} already exists")
        role = Role(role_id=new_id(), name=name, is_admin=is_admin)
        self.roles[name] = role
        return role

    def check_roles(self, roles: list[str], label: str) -> list[str]:
        """The roles, deduplicated in order; 400 naming the first that does not exist."""
        for name in roles:
            if name not in self.roles:
                raise bad_request(f"{label}: role {name!r} does not exist")
        return list(dict.fromkeys(roles))

    # users

    def add_user(
        self,
        username: str,
        email: str,
        roles: list[str],
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        active: bool = True,
        external_id: str | None = None,
        label: str = "user",
    ) -> User:
        if fold(username) in self.user_id_by_username:
            raise conflict(f"{label}: username {username!r} already exists")
        if external_id and fold(external_id) in self.user_id_by_external_id:
            raise conflict(f"{label}: externalId {external_id!r} is already linked to a user")
        user = User(
            user_id=new_id(),
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            active=active,
            roles=self.check_roles(roles, label),
        )
        self.users[user.user_id] = user
        self.user_id_by_username[fold(username)] = user.user_id
        self.set_external_id(user, external_id)
        return user

    def live_user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None or user.deleted:
            raise not_found(f"user {user_id!r} not found")
        return user

    def find_user(self, username: str) -> User | None:
        user_id = self.user_id_by_username.get(fold(username))
        return self.users[user_id] if user_id else None

    def user_named(self, username: str) -> User:
        user = self.find_user(username)
        if user is None:
            raise not_found(f"unknown user {username!r}")
        return user

    def was_deleted(self, username: str) -> bool:
        key = fold(username)
        return any(u.deleted and fold(u.username) == key for u in self.users.values())

    def set_external_id(self, user: User, external_id: str | None) -> None:
        if external_id:
            holder = self.user_id_by_external_id.get(fold(external_id))
            if holder and holder != user.user_id:
                raise conflict(f"externalId {external_id!r} is already linked to another user")
        if user.external_id:
            self.user_id_by_external_id.pop(fold(user.external_id), None)
        user.external_id = external_id or None
        if external_id:
            self.user_id_by_external_id[fold(external_id)] = user.user_id

    def delete_user(self, user: User) -> None:
        """Soft delete: gone from exports and lookups, username and externalId free again."""
        self.user_id_by_username.pop(fold(user.username), None)
        if user.external_id:
            self.user_id_by_external_id.pop(fold(user.external_id), None)
        self.disconnect_user(user)
        user.deleted = True

    def has_employee_profile(self, user: User) -> bool:
        """Connected to an employee whose e-mail is the user's."""
        employee = self.employees.get(user.employee_id or "")
        return employee is not None and fold(employee.email) == fold(user.email)

    # employees

    def add_employee(self, email: str, **master_data: str | None) -> Employee:
        employee = Employee(employee_id=new_id(), email=email, **master_data)
        self.employees[employee.employee_id] = employee
        return employee

    def employee(self, employee_id: str, label: str) -> Employee:
        employee = self.employees.get(employee_id)
        if employee is None:
            raise bad_request(f"{label}: employee {employee_id!r} does not exist")
        return employee

    def employees_with_email(self, email: str) -> list[Employee]:
        key = fold(email)
        return [e for e in self.employees.values() if fold(e.email) == key]

    def employee_with_email(self, email: str) -> Employee:
        found = self.employees_with_email(email)
        if not found:
            raise not_found(f"unknown employee {email!r}")
        if len(found) > 1:
            raise bad_request(f"e-mail {email!r} matches {len(found)} employees")
        return found[0]

    def connect(self, employee: Employee, user: User) -> None:
        """Tie both sides, dropping whatever either side was tied to before."""
        self.disconnect_user(user)
        self.disconnect_employee(employee)
        employee.user_id = user.user_id
        user.employee_id = employee.employee_id

    def disconnect_user(self, user: User) -> None:
        employee = self.employees.get(user.employee_id or "")
        if employee is not None:
            employee.user_id = None
        user.employee_id = None

    def disconnect_employee(self, employee: Employee) -> None:
        user = self.users.get(employee.user_id or "")
        if user is not None:
            user.employee_id = None
        employee.user_id = None

    # faults

    def take_fault(self, relative_path: str) -> Fault | None:
        """The first armed fault covering this path, with one use spent."""
        for fault in self.faults:
            if relative_path.startswith(fault.path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def take_bad_export_row(self, export_id: str) -> BadExportRow | None:
        """The first armed bad row of this export, with one use spent."""
        for bad in self.bad_export_rows:
            if bad.export_id == export_id:
                bad.times -= 1
                if bad.times <= 0:
                    self.bad_export_rows.remove(bad)
                return bad
        return None
