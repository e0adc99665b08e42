"""The committed demo seed is what the generator makes, and has what the README promises."""

from pathlib import Path

import yaml

from entrasync.demo_seed import build_demo_seed

SEED = Path(__file__).resolve().parents[2] / "data" / "demo" / "seed.yaml"


def test_committed_seed_matches_generator():
    assert yaml.safe_load(SEED.read_text()) == build_demo_seed()


def test_demo_has_the_promised_mix():
    seed = build_demo_seed()
    users = seed["entra"]["users"]
    assert len(users) >= 200 and len(seed["entra"]["groups"]) == 10
    assert sum(u.get("userType") == "Guest" for u in users) >= 3
    emply = seed["emply"]["users"]
    assert sum(u["username"].endswith("@partner.example") for u in emply) >= 10
    assert len(seed["emply"]["employees"]) >= 20
    assert any(u["email"] != u["email"].strip().lower() for u in emply)  # odd-cased matches
