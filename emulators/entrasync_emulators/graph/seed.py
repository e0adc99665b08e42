"""The control surface's bulk load: many users and groups in one call, for demos and benchmarks."""

from __future__ import annotations

from typing import Any

from entrasync_emulators.graph.directory import DirectoryError, TenantDirectory
from entrasync_emulators.graph.spec_ops import OpError, only_args, user_props


def seed(tenant: TenantDirectory, users: Any, groups: Any) -> dict[str, int]:
    """Bulk load users and groups (members by UPN, mail, id or nested group name)."""
    if not isinstance(users, list) or not isinstance(groups, list):
        raise OpError(400, "seed: 'users' and 'groups' must be lists")
    for index, args in enumerate(users):
        if not isinstance(args, dict):
            raise OpError(400, f"seed: users[{index}] must be a mapping")
        props = user_props(f"seed users[{index}]", args, allow_id=True)
        if not props.get("userPrincipalName") and not (
            props.get("userType") == "Guest" and props.get("mail")
        ):
            raise OpError(400, f"seed users[{index}]: missing required arg 'upn'")
        try:
            tenant.create_user(props, log=False)
        except DirectoryError as error:
            raise OpError(400, f"seed users[{index}]: {error.message}") from error
    group_ids: list[str] = []
    for index, spec in enumerate(groups):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise OpError(400, f"seed: groups[{index}] needs a 'name'")
        only_args(f"seed groups[{index}]", spec, {"name", "id", "members"})
        try:
            group_ids.append(
                tenant.create_group(str(spec["name"]), spec.get("id"), log=False)["id"]
            )
        except DirectoryError as error:
            raise OpError(400, f"seed groups[{index}]: {error.message}") from error
    mail_index: dict[str, str] | None = None
    for index, (spec, group_id) in enumerate(zip(groups, group_ids, strict=True)):
        for reference in spec.get("members") or []:
            lowered = str(reference).strip().lower()
            member_id = tenant.upn_index.get(lowered)
            if member_id is None and reference in tenant.users:
                member_id = reference
            if member_id is None:
                if mail_index is None:
                    mail_index = {
                        (user["mail"] or "").lower(): user_id
                        for user_id, user in tenant.users.items()
                        if user["mail"]
                    }
                member_id = mail_index.get(lowered) or tenant.find_group(lowered)
            if member_id is None:
                raise OpError(
                    404, f"seed groups[{index}]: member {reference!r} is not a user or group"
                )
            if member_id not in tenant.members[group_id]:
                tenant.add_member(group_id, member_id, log=False)
    tenant.sync_generation += 1
    return {"users": len(users), "groups": len(groups)}
