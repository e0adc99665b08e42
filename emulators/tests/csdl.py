"""Microsoft's Graph v1.0 CSDL (shared/graph_metadata), read with xml.etree, and a JSON checker."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

# Found the way the graph_examples tests find theirs: shared/ beside the checkout.
CSDL_FILE = Path(__file__).resolve().parents[3] / "shared" / "graph_metadata" / "v1.0-Prod.csdl.gz"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True)
class Property:
    type: str  # e.g. Edm.String, graph.emailAddress, Collection(Edm.String)
    nullable: bool
    navigation: bool = False


@dataclass
class StructuredType:
    name: str
    base: str | None
    own: dict[str, Property] = field(default_factory=dict)


@dataclass
class Csdl:
    types: dict[str, StructuredType]  # entity and complex types, by short name
    enums: dict[str, set[str]]
    functions: list[tuple[str, str]]  # (function name, binding parameter type), bound only
    entity_sets: dict[str, str]  # entity set or singleton -> its type's short name

    def properties(self, type_name: str) -> dict[str, Property]:
        """Every property of the type, inherited ones (BaseType) included."""
        found: dict[str, Property] = {}
        chain = []
        current: str | None = short(type_name)
        while current is not None:
            declared = self.types[current]
            chain.append(declared)
            current = short(declared.base) if declared.base else None
        for declared in reversed(chain):
            found.update(declared.own)
        return found

    def bound(self, function: str, binding: str) -> bool:
        return (function, binding) in self.functions


def short(type_name: str) -> str:
    """`graph.user`, `microsoft.graph.user` and `#microsoft.graph.user` as `user`."""
    return type_name.lstrip("#").removeprefix(f"{NAMESPACE}.").removeprefix("graph.")


@cache
def load() -> Csdl:
    root = ElementTree.fromstring(gzip.decompress(CSDL_FILE.read_bytes()))
    schema = next(s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == NAMESPACE)
    types: dict[str, StructuredType] = {}
    for tag in ("EntityType", "ComplexType"):
        for node in schema.iter(f"{EDM}{tag}"):
            declared = StructuredType(node.get("Name"), node.get("BaseType"))
            for prop in node.findall(f"{EDM}Property"):
                declared.own[prop.get("Name")] = Property(
                    prop.get("Type"), prop.get("Nullable", "true") == "true"
                )
            for nav in node.findall(f"{EDM}NavigationProperty"):
                declared.own[nav.get("Name")] = Property(
                    nav.get("Type"), nav.get("Nullable", "true") == "true", navigation=True
                )
            types[declared.name] = declared
    enums = {
        node.get("Name"): {member.get("Name") for member in node.findall(f"{EDM}Member")}
        for node in schema.iter(f"{EDM}EnumType")
    }
    functions = []
    for node in schema.iter(f"{EDM}Function"):
        if node.get("IsBound") == "true":
            binding = node.find(f"{EDM}Parameter").get("Type")
            functions.append((node.get("Name"), binding))
    container = schema.find(f"{EDM}EntityContainer")
    entity_sets = {
        node.get("Name"): short(node.get("EntityType") or node.get("Type"))
        for node in [*container.findall(f"{EDM}EntitySet"), *container.findall(f"{EDM}Singleton")]
    }
    return Csdl(types, enums, functions, entity_sets)


# ------------------------------------------------------------------ checking JSON against it


def check_object(csdl: Csdl, type_name: str, obj: Any, where: str) -> list[str]:
    """Every deviation of one JSON object from the type: unknown names, JSON types, nulls.

    Instance annotations (`@odata.type`, `members@delta`, `@removed`) are not properties. An
    object that names its own `@odata.type` is checked as that type (a derived one).
    """
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object of {type_name}, got {obj!r}"]
    actual_type = obj.get("@odata.type")
    if isinstance(actual_type, str) and short(actual_type) in csdl.types:
        type_name = short(actual_type)
    declared = csdl.properties(type_name)
    problems = []
    for name, value in obj.items():
        if "@" in name:
            continue
        prop = declared.get(name)
        if prop is None:
            problems.append(f"{where}.{name}: no property '{name}' on {type_name}")
            continue
        problems += check_value(csdl, prop.type, prop.nullable, value, f"{where}.{name}")
    return problems


def check_value(csdl: Csdl, type_name: str, nullable: bool, value: Any, where: str) -> list[str]:
    if value is None:
        return [] if nullable else [f"{where}: null, but {type_name} is not nullable"]
    if type_name.startswith("Collection("):
        if not isinstance(value, list):
            return [f"{where}: expected a JSON array ({type_name}), got {value!r}"]
        item_type = type_name[len("Collection(") : -1]
        return [
            problem
            for index, item in enumerate(value)
            for problem in check_value(csdl, item_type, False, item, f"{where}[{index}]")
        ]
    if type_name.startswith("Edm."):
        return [] if _edm_matches(type_name, value) else [f"{where}: {value!r} is not {type_name}"]
    name = short(type_name)
    if name in csdl.enums:
        members = csdl.enums[name]
        ok = isinstance(value, str) and all(part.strip() in members for part in value.split(","))
        return [] if ok else [f"{where}: {value!r} is not a member of enum {name}"]
    return check_object(csdl, name, value, where)


def _edm_matches(type_name: str, value: Any) -> bool:
    if type_name == "Edm.String":
        return isinstance(value, str)
    if type_name == "Edm.Boolean":
        return isinstance(value, bool)
    if type_name in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte"):
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Edm.Guid":
        return isinstance(value, str) and bool(_GUID.match(value))
    if type_name == "Edm.DateTimeOffset":
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return isinstance(value, str)  # Edm.Binary, Edm.Date, Edm.Duration, Edm.TimeOfDay: text
