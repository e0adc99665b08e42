"""The committed demo seed (data/demo/seed.yaml) has what the README promises."""

from pathlib import Path

import yaml

SEED = Path(__file__).resolve().parents[2] / "data" / "demo" / "seed.yaml"


def test_demo_has_the_promised_mix():
    seed = yaml.safe_load(SEED.read_text())
    users = seed["entra"]["users"]
    assert len(users) >= 200 and len(seed["entra"]["groups"]) == 10
    assert sum(u.get("userType") == "Guest" for u in users) >= 3
    emply = seed["emply"]["users"]
    assert sum(u["username"].endswith("@partner.example") for u in emply) >= 10
    assert len(seed["emply"]["employees"]) >= 20
    assert any(u["email"] != u["email"].strip().lower() for u in emply)  # odd-cased matches
