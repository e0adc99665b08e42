"""Scenario files: load the YAML and check every key strictly into a `Scenario`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from entrasync.scenario.schema import SCENARIO
from entrasync.scenario.shapes import ShapeError


class ScenarioError(Exception):
    """A scenario file is wrong (or an op it runs is refused); the message is one line."""


@dataclass(frozen=True)
class Op:
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Step:
    number: int  # 1-based, as printed
    kind: str  # sync, settings, entra, emply or expect
    body: Any  # the checked mapping; for entra/emply a list of Op

    @property
    def label(self) -> str:
        return f"step {self.number} {self.kind}"


@dataclass(frozen=True)
class Scenario:
    source: str
    name: str
    settings: dict[str, Any]
    entra_users: list[dict[str, Any]]
    entra_groups: list[dict[str, Any]]
    emply_roles: list[str | dict[str, Any]]
    emply_users: list[dict[str, Any]]
    emply_employees: list[dict[str, Any]]
    steps: list[Step]


def parse_scenario(raw: Any, source: str) -> Scenario:
    """A checked scenario from loaded YAML; ScenarioError names `source` and the key path."""
    try:
        checked = SCENARIO.check(raw, "")
    except ShapeError as error:
        raise ScenarioError(f"{source}: {error}") from None
    steps = [_step(number, kind, body) for number, (kind, body) in enumerate(checked["steps"], 1)]
    if not any(step.kind == "expect" for step in steps):
        raise ScenarioError(f"{source}: steps: expected at least one expect step, got none")
    entra, emply = checked.get("entra", {}), checked.get("emply", {})
    return Scenario(
        source=source,
        name=checked["name"],
        settings=checked["settings"],
        entra_users=entra.get("users", []),
        entra_groups=entra.get("groups", []),
        emply_roles=emply.get("roles", []),
        emply_users=emply.get("users", []),
        emply_employees=emply.get("employees", []),
        steps=steps,
    )


def _step(number: int, kind: str, body: Any) -> Step:
    if kind in ("entra", "emply"):
        body = [Op(name, args) for name, args in body]
    return Step(number, kind, body)


def load_scenario(path: str | Path) -> Scenario:
    """Read and check one scenario file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{source}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start})"
        ) from None
    except OSError as error:
        raise ScenarioError(f"{source}: cannot read ({error.strerror or error})") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise ScenarioError(f"{source}: not valid YAML ({where}{error.problem})") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: not valid YAML ({error})") from None
    return parse_scenario(raw, source)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML keeps the last silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # an unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
            )
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)
