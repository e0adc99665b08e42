"""Deterministic changes to a generated tenant, as SPEC entra ops (incremental runs, tests)."""

from __future__ import annotations

import random
from typing import Any

from entrasync_emulators.generate import FIRST_NAMES, JOB_TITLES, LAST_NAMES

Op = dict[str, Any]


class Churn:
    """Rounds of user and membership changes; no user or membership is changed twice.

    User changes: attribute updates, disables, soft deletes and new users (put in a connected
    group). Membership changes: leaving a connected group, moving to another connected group,
    joining and leaving team groups, and a team nested into a connected group.
    """

    def __init__(self, generated: dict[str, Any], seed: int = 7) -> None:
        self._rng = random.Random(seed)
        groups = generated["entra"]["groups"]
        self._connected = [mapping["group"] for mapping in generated["groups"]]
        self._teams = [group["name"] for group in groups if group["name"] not in self._connected]
        self._members = {group["name"]: set(group["members"]) for group in groups}
        self._department = {
            member: name for name in self._connected for member in self._members[name]
        }
        self._untouched = [user["upn"] for user in generated["entra"]["users"]]
        self._rng.shuffle(self._untouched)
        self._touched: set[str] = set()
        self._domain = generated["shape"]["domain"]
        self._new_users = 0

    def _take_user(self) -> str:
        while True:
            upn = self._untouched.pop()
            if upn not in self._touched:
                self._touched.add(upn)
                return upn

    def user_ops(self, count: int) -> list[Op]:
        ops: list[Op] = []
        for index in range(count):
            slot = index % 20
            if slot < 10:
                upn = self._take_user()
                title = JOB_TITLES[self._rng.randrange(len(JOB_TITLES))]
                ops.append(_op("update_user", upn=upn, set={"jobTitle": f"Senior {title}"}))
            elif slot < 13:
                ops.append(_op("disable_user", upn=self._take_user()))
            elif slot < 15:
                upn = self._take_user()
                self._forget(upn)
                ops.append(_op("delete_user", upn=upn))
            else:
                ops.extend(self._new_user())
        return ops

    def _new_user(self) -> list[Op]:
        self._new_users += 1
        given = FIRST_NAMES[self._rng.randrange(len(FIRST_NAMES))]
        surname = LAST_NAMES[self._rng.randrange(len(LAST_NAMES))]
        upn = f"{given}.{surname}.new{self._new_users}@{self._domain}".lower()
        group = self._connected[self._rng.randrange(len(self._connected))]
        self._members[group].add(upn)
        return [
            _op("add_user", upn=upn, mail=upn, displayName=f"{given} {surname}",
                givenName=given, surname=surname, jobTitle="Engineer"),
            _op("add_member", group=group, user=upn),
        ]  # fmt: skip

    def membership_ops(self, count: int) -> list[Op]:
        ops: list[Op] = []
        for index in range(count):
            slot = index % 10
            if slot < 3:  # leaves its connected group: out of scope
                upn = self._take_user()
                ops.append(_op("remove_member", group=self._department[upn], user=upn))
                self._members[self._department[upn]].discard(upn)
            elif slot < 5:  # moves to another connected group: a role change
                upn = self._take_user()
                old = self._department[upn]
                new = self._connected[(self._connected.index(old) + 1) % len(self._connected)]
                ops.append(_op("remove_member", group=old, user=upn))
                if upn not in self._members[new]:
                    ops.append(_op("add_member", group=new, user=upn))
                    self._members[new].add(upn)
                self._members[old].discard(upn)
            elif self._teams:
                ops.append(self._team_change(joining=slot < 8))
        if self._teams and count >= 10:
            team = self._teams[self._rng.randrange(len(self._teams))]
            if team not in self._members[self._connected[-1]]:
                self._members[self._connected[-1]].add(team)
                ops.append(_op("add_member", group=self._connected[-1], user=team))
        return ops

    def _team_change(self, joining: bool) -> Op:
        team = self._teams[self._rng.randrange(len(self._teams))]
        members = self._members[team]
        # sorted: a set's order follows the process's string hashing, the churn must not
        leaving = sorted(m for m in members if "@" in m and m not in self._touched)
        if joining:
            leaving = []
        if not leaving:
            upn = self._take_user()
            while upn in members:
                upn = self._take_user()
            members.add(upn)
            return _op("add_member", group=team, user=upn)
        upn = leaving[0]
        members.discard(upn)
        self._touched.add(upn)
        return _op("remove_member", group=team, user=upn)

    def _forget(self, upn: str) -> None:
        for members in self._members.values():
            members.discard(upn)


def _op(name: str, **args: Any) -> Op:
    return {"op": name, "args": args}
