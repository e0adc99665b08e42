"""Build the demo tenant (data/demo/seed.yaml): deterministic, both sides, in SPEC's seed shape."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

FIRST = ["Megan", "Adele", "Alex", "Diego", "Grady", "Isaiah", "Johanna", "Joni", "Lee", "Lidia",
         "Lynne", "Miriam", "Nestor", "Patti", "Pradeep", "Henrietta", "Irvin", "Christie",
         "Enrico", "Allan"]  # fmt: skip
LAST = ["Bowen", "Vance", "Wilber", "Siciliani", "Archie", "Langer", "Lauer", "Sherman", "Gu",
        "Holloway", "Valdez", "Graham", "Wilke", "Fernandez", "Gupta", "Mueller", "Cline",
        "Nakamura", "Rossi", "Deyoung"]  # fmt: skip
CONNECTED = {"Employees": "Employee", "HR": "HR", "Managers": "Manager", "Sales": "Sales",
             "Engineering": "Engineer"}  # fmt: skip
OTHER_GROUPS = ["Finance", "Support", "Marketing", "Legal", "IT"]
DOMAIN = "contoso.com"


def build_demo_seed(users: int = 220, seed: int = 7) -> dict:
    rng = random.Random(seed)
    entra_users, emply_users, employees = [], [], []
    members: dict[str, list[str]] = {g: [] for g in [*CONNECTED, *OTHER_GROUPS]}
    for index in range(users):
        first, last = FIRST[index % len(FIRST)], LAST[(index // len(FIRST)) % len(LAST)]
        local = f"{first}.{last}{index}".lower()
        upn = f"{local}@{DOMAIN}"
        user = {"upn": upn, "mail": upn, "displayName": f"{first} {last}", "givenName": first,
                "surname": last, "jobTitle": rng.choice(["Consultant", "Engineer", "Manager"]),
                "department": rng.choice(["Sales", "R&D", "Finance", "HR"])}  # fmt: skip
        if index % 45 == 44:
            user["accountEnabled"] = False
        if index % 50 == 10:  # a B2B guest: UPN from the home address, matched by mail
            home = f"{local}@fabrikam.com"
            user |= {"upn": f"{local}_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": home,
                     "userType": "Guest"}  # fmt: skip
        entra_users.append(user)
        if index % 10 != 9:
            members["Employees"].append(user["upn"])
        for group in rng.sample(sorted(members), 2):
            if user["upn"] not in members[group]:
                members[group].append(user["upn"])
        # Emply side: a third already exist (some by username, some by odd-cased e-mail)
        if index % 3 == 0:
            username = user["upn"] if index % 2 == 0 else local
            email = user["mail"] if index % 2 == 0 else f"  {user['mail'].upper()} "
            emply_users.append({"username": username, "email": email, "roles": ["Employee"]})
            if index % 6 == 0:
                employees.append({"email": user["mail"], "first_name": first, "last_name": last,
                                  "job_title": user["jobTitle"], "department": user["department"],
                                  "user": username})  # fmt: skip
        elif index % 7 == 1:  # an employee hired in Emply, no user yet: R2 creates it for them
            employees.append({"email": user["mail"], "first_name": first, "last_name": last})
    for index in range(12):  # external consultants: Emply only, never touched
        address = f"consultant{index}@partner.example"
        emply_users.append({"username": address, "email": address, "roles": ["Employee"]})
    roles = [*CONNECTED.values(), "Contractor", {"name": "Administrator", "admin": True}]
    return {
        "entra": {"users": entra_users,
                  "groups": [{"name": g, "members": m} for g, m in members.items()]},
        "emply": {"roles": roles, "users": emply_users, "employees": employees},
    }  # fmt: skip


def write_demo_seed(path: Path) -> None:
    path.write_text(yaml.safe_dump(build_demo_seed(), sort_keys=False, width=120))
