"""A deterministic synthetic tenant (Entra and Emply sides) as the control surface's seed bodies."""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass
from typing import Any

FIRST_NAMES = (
    "Adele", "Alex", "Bianca", "Carlos", "Diego", "Elena", "Farah", "Grady", "Hana", "Isaiah",
    "Johanna", "Kwame", "Lidia", "Megan", "Nestor", "Olga", "Patti", "Quinn", "Rosa", "Sven",
    "Tariq", "Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoe", "Aki", "Bo", "Chen", "Dara", "Emil",
)  # fmt: skip
LAST_NAMES = (
    "Bowen", "Vance", "Ortiz", "Nakamura", "Okafor", "Larsen", "Moreau", "Silva", "Kowalski",
    "Haddad", "Jensen", "Fischer", "Rossi", "Ivanova", "Murphy", "Tanaka", "Novak", "Costa",
)  # fmt: skip
DEPARTMENTS = (
    "Sales", "Engineering", "Finance", "HR", "Marketing", "Support", "Legal", "Operations",
    "Research", "Logistics", "Facilities", "Procurement",
)  # fmt: skip
JOB_TITLES = ("Engineer", "Consultant", "Manager", "Analyst", "Specialist", "Coordinator")
PARTNER_DOMAINS = ("fabrikam.com", "northwind.example", "tailspin.example")
ADMIN_ROLE = "Administrator"
EXTERNAL_ROLE = "Consultant"


@dataclass(frozen=True)
class TenantShape:
    """How big the tenant is and which share of it falls into each sync case."""

    users: int = 10_000
    groups: int = 200
    memberships: int = 50_000
    seed: int = 1
    connected_groups: int = 10
    domain: str = "contoso.com"
    guest_share: float = 0.03  # B2B guests among the Entra users
    create_share: float = 0.05  # in scope, not in Emply: a first sync creates them (R2)
    deactivate_share: float = 0.01  # linked, disabled in Entra: deactivated (R3)
    link_share: float = 0.01  # in Emply, matching by username or mail, not linked yet (R1)
    external_share: float = 0.005  # Emply-only consultants, never touched
    employee_share: float = 0.6  # Emply users with an employee profile
    nested_share: float = 0.05  # non-connected groups that hold another group


@dataclass(frozen=True)
class Expected:
    """What a first sync with deactivations allowed plans for the generated tenant."""

    create_user: int
    deactivate_user: int
    link_user: int


def role_name(index: int) -> str:
    return DEPARTMENTS[index] if index < len(DEPARTMENTS) else f"Department {index + 1}"


def group_name(index: int, connected: int) -> str:
    if index < connected:
        return f"Dept {role_name(index)}"
    return f"Team {index - connected + 1:05d}"


def _object_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _entra_users(shape: TenantShape, rng: random.Random) -> list[dict[str, Any]]:
    users = []
    guests = round(shape.users * shape.guest_share)
    stride = max(shape.users // max(guests, 1), 1)
    initial = shape.domain.split(".", 1)[0] + ".onmicrosoft.com"
    for index in range(shape.users):
        given = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        surname = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        local = f"{given}.{surname}{index}".lower()
        user: dict[str, Any] = {
            "id": _object_id(rng),
            "displayName": f"{given} {surname}",
            "givenName": given,
            "surname": surname,
            "jobTitle": JOB_TITLES[index % len(JOB_TITLES)],
            "mobilePhone": f"+45 {20_000_000 + index}",
        }
        if index % stride == min(7, stride - 1) and guests > 0:
            guests -= 1
            partner = PARTNER_DOMAINS[index % len(PARTNER_DOMAINS)]
            user["mail"] = f"{local}@{partner}"
            user["upn"] = f"{local}_{partner}#EXT#@{initial}"
            user["userType"] = "Guest"
        else:
            user["upn"] = f"{local}@{shape.domain}"
            user["mail"] = user["upn"]
        users.append(user)
    return users


def _memberships(
    shape: TenantShape, rng: random.Random, users: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every user in one connected (department) group; the rest spread over team groups."""
    connected = min(shape.connected_groups, shape.groups)
    names = [group_name(index, connected) for index in range(shape.groups)]
    members: list[list[str]] = [[] for _ in names]
    for index, user in enumerate(users):
        department = index % connected
        user["department"] = role_name(department)
        members[department].append(user["upn"])
    teams = shape.groups - connected
    budget = max(shape.memberships - len(users), 0)
    if teams > 0:
        nested = max(int(teams * shape.nested_share), 0)
        for team in range(1, nested + 1):  # a team holds an older team: no cycles
            members[connected + team].append(names[connected + rng.randrange(team)])
        if nested:  # a connected group holds a team too (read as a group member, not scope)
            members[0].append(names[connected])
        budget -= nested + (1 if nested else 0)
        seen: set[int] = set()
        while len(seen) < budget:
            key = rng.randrange(teams) * len(users) + rng.randrange(len(users))
            if key not in seen:
                seen.add(key)
                team, user_index = divmod(key, len(users))
                members[connected + team].append(users[user_index]["upn"])
    return [
        {"name": name, "id": _object_id(rng), "members": group_members}
        for name, group_members in zip(names, members, strict=True)
    ]


def _emply_side(
    shape: TenantShape, rng: random.Random, users: list[dict[str, Any]]
) -> tuple[dict[str, Any], Expected]:
    order = list(range(len(users)))
    rng.shuffle(order)
    n_create = round(len(users) * shape.create_share)
    n_deactivate = round(len(users) * shape.deactivate_share)
    n_link = round(len(users) * shape.link_share)
    create = set(order[:n_create])
    deactivate = set(order[n_create : n_create + n_deactivate])
    link = set(order[n_create + n_deactivate : n_create + n_deactivate + n_link])
    emply_users, employees = [], []
    for index, user in enumerate(users):
        if index in create:
            continue
        if index in deactivate:
            user["accountEnabled"] = False
        guest = user.get("userType") == "Guest"
        emply_user = {
            "username": user["mail"] if guest else user["upn"],
            "email": user["mail"],
            "first_name": user["givenName"],
            "last_name": user["surname"],
            "roles": [user["department"]],
        }
        if index in link:
            if not guest and index % 2:
                emply_user["username"] = user["upn"].split("@", 1)[0]  # matches by mail
                emply_user["email"] = f"  {user['mail'].upper()} "
        else:
            emply_user["external_id"] = user["id"]
        emply_users.append(emply_user)
        if rng.random() < shape.employee_share and index not in link:
            employees.append({
                "email": emply_user["email"], "first_name": user["givenName"],
                "last_name": user["surname"], "job_title": user["jobTitle"],
                "department": user["department"], "mobile": user["mobilePhone"],
                "user": emply_user["username"],
            })  # fmt: skip
    for index in range(round(len(users) * shape.external_share)):
        emply_users.append({
            "username": f"consultant{index}@external-partner.example",
            "email": f"consultant{index}@external-partner.example", "roles": [EXTERNAL_ROLE],
        })  # fmt: skip
    connected = min(shape.connected_groups, shape.groups)
    roles: list[Any] = [role_name(index) for index in range(connected)]
    roles += [EXTERNAL_ROLE, {"name": ADMIN_ROLE, "admin": True}]
    emply = {"roles": roles, "users": emply_users, "employees": employees}
    return emply, Expected(n_create, n_deactivate, n_link)


def generate(shape: TenantShape) -> dict[str, Any]:
    """`{"entra": graph seed, "emply": emply seed, "groups": settings groups, "expected"}`."""
    if shape.users < 1 or shape.groups < 1:
        raise ValueError("a generated tenant needs at least one user and one group")
    rng = random.Random(shape.seed)
    users = _entra_users(shape, rng)
    groups = _memberships(shape, rng, users)
    emply, expected = _emply_side(shape, rng, users)
    connected = min(shape.connected_groups, shape.groups)
    return {
        "shape": asdict(shape),
        "entra": {"users": users, "groups": groups},
        "emply": emply,
        "groups": [
            {"group": group_name(index, connected), "role": role_name(index)}
            for index in range(connected)
        ],
        "expected": asdict(expected),
    }
