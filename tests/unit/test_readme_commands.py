"""The README's two set-up commands are the whole set-up, and CI runs exactly the test one."""

import re
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The commands of the README's first code block, comments stripped."""
    readme = (CHECKOUT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_opens_with_demo_and_test_commands():
    assert readme_commands() == ["make demo", "make test"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (CHECKOUT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in ci if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == readme_commands()[1]
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1]), commands


def test_make_test_installs_chromium_the_ui_test_drives():
    makefile = (CHECKOUT / "Makefile").read_text()
    ui_test = (CHECKOUT / "tests" / "integration" / "test_prefect_ui.py").read_text()
    chromium = re.search(r'^CHROMIUM = "(.+)"', ui_test, re.M).group(1)
    assert f"CHROMIUM := {chromium}" in makefile
    assert re.search(r"^test: .*\$\(CHROMIUM\)", makefile, re.M)
    assert "apt-get install -y -q --no-install-recommends chromium" in makefile
