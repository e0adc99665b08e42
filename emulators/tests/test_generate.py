"""The synthetic tenant generator: deterministic, the asked sizes, every sync case present."""

from __future__ import annotations

import json

from entrasync_emulators.churn import Churn
from entrasync_emulators.cli import main as cli_main
from entrasync_emulators.generate import TenantShape, generate

SHAPE = TenantShape(users=2_000, groups=40, memberships=9_000, seed=4)


def test_same_seed_same_tenant_other_seed_other_tenant():
    assert json.dumps(generate(SHAPE)) == json.dumps(generate(SHAPE))
    other = generate(TenantShape(users=2_000, groups=40, memberships=9_000, seed=5))
    assert other["entra"]["users"][0]["id"] != generate(SHAPE)["entra"]["users"][0]["id"]


def test_sizes_and_shares():
    generated = generate(SHAPE)
    users, groups = generated["entra"]["users"], generated["entra"]["groups"]
    assert len(users) == 2_000 and len(groups) == 40
    assert sum(len(group["members"]) for group in groups) == 9_000
    assert len({user["id"] for user in users}) == 2_000
    assert len({user["upn"].lower() for user in users}) == 2_000
    assert sum(user.get("userType") == "Guest" for user in users) == 60
    assert sum(user.get("accountEnabled") is False for user in users) == 20
    for group in groups:
        assert len(set(group["members"])) == len(group["members"])
    team_names = {group["name"] for group in groups[10:]}
    nested = [m for group in groups for m in group["members"] if m in team_names]
    assert nested  # nested groups exist


def test_emply_side_matches_most_users_and_the_expected_plan_adds_up():
    generated = generate(SHAPE)
    emply, expected = generated["emply"], generated["expected"]
    assert expected == {"create_user": 100, "deactivate_user": 20, "link_user": 20}
    linked = [user for user in emply["users"] if user.get("external_id")]
    externals = [user for user in emply["users"] if "external-partner" in user["email"]]
    assert len(linked) == 2_000 - 100 - 20
    assert len(externals) == 10
    assert emply["employees"] and all(e["user"] for e in emply["employees"])
    roles = {role if isinstance(role, str) else role["name"] for role in emply["roles"]}
    assert {mapping["role"] for mapping in generated["groups"]} <= roles


def test_a_hundred_thousand_users_tenant():
    generated = generate(TenantShape(users=100_000, groups=2_000, memberships=500_000))
    assert generated["expected"]["create_user"] == 5_000


def test_churn_never_touches_a_user_twice():
    churn = Churn(generate(SHAPE), seed=3)
    ops = churn.user_ops(40) + churn.membership_ops(60) + churn.user_ops(40)
    touched = [op["args"]["upn"] for op in ops if "upn" in op["args"] and op["op"] != "add_user"]
    assert len(touched) == len(set(touched))
    kinds = {op["op"] for op in ops}
    assert {"update_user", "disable_user", "delete_user", "add_user", "add_member",
            "remove_member"} <= kinds  # fmt: skip


def test_cli_writes_the_seed(tmp_path, capsys):
    out = tmp_path / "seed.json"
    try:
        cli_main(["generate", "--users", "300", "--seed", "2", "--out", str(out)])
    except SystemExit as exit_:
        assert exit_.code == 0
    seed = json.loads(out.read_text())
    assert len(seed["entra"]["users"]) == 300 and seed["emply"]["users"]
    assert "expected first plan" in capsys.readouterr().out
