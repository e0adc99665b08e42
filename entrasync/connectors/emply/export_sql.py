"""The checks and mapping of models.ROW_KINDS as DuckDB SQL over an export package's JSON.

A 100k-user export is 33 MB of JSON: DuckDB parses, checks and maps it in a fraction of the
time Python objects take. The SQL only finds the first bad row; its message comes from the same
RowReader the Python path uses, so both paths name a bad row in the same words.
"""

from __future__ import annotations

from typing import Any

from entrasync.connectors.emply.models import Field, RowKind


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def _value(kind: RowKind, field: Field) -> str:
    """The field's JSON value (SQL NULL when the row lacks it), extracted once per row."""
    return f"fields[{kind.fields.index(field) + 1}]"


def _type(kind: RowKind, field: Field) -> str:
    return f"json_type({_value(kind, field)})"


def field_ok(kind: RowKind, field: Field) -> str:
    """True where the row's field holds what models.read_field accepts."""
    if field.kind == "text":
        accepted = "('VARCHAR')" if field.required else "('VARCHAR', 'NULL')"
        missing_ok = "false" if field.required else "true"
        return f"coalesce({_type(kind, field)} IN {accepted}, {missing_ok})"
    if field.kind == "flag":
        return f"coalesce({_type(kind, field)} = 'BOOLEAN', false)"
    if field.kind == "texts":  # CASE: the cast only runs on arrays
        items = f"CAST({_value(kind, field)} AS JSON[])"
        every_item_text = (
            f"list_bool_and(list_transform({items}, lambda item: json_type(item) = 'VARCHAR'))"
        )
        return (
            f"CASE WHEN {_type(kind, field)} = 'ARRAY' THEN coalesce({every_item_text}, true) "
            "ELSE false END"
        )
    values = ", ".join(_literal(value) for value in field.choices or {})
    text = f"json_extract_string({_value(kind, field)}, '$')"
    return f"coalesce({_type(kind, field)} = 'VARCHAR' AND {text} IN ({values}), false)"


def field_value(kind: RowKind, field: Field) -> str:
    """The warehouse value of a checked field."""
    value = _value(kind, field)
    if field.kind == "flag":
        return f"CAST({value} AS BOOLEAN)"
    if field.kind == "texts":
        return f"CAST({value} AS VARCHAR[])"
    if field.kind == "choice":
        cases = " ".join(
            f"WHEN {_literal(value)} THEN {_literal(column_value)}"
            for value, column_value in (field.choices or {}).items()
        )
        return f"CASE json_extract_string({value}, '$') {cases} END"
    return f"json_extract_string({value}, '$')"


# `?` is the package's text, parsed once: its `data` list (NULL when the package has none), each
# row as JSON text. DuckDB raises InvalidInputException when the text is not JSON.
STAGE_PACKAGE_SQL = """
CREATE OR REPLACE TEMP TABLE export_package AS
SELECT from_json(?, '{"data": ["JSON"]}').data AS items
"""
HAS_DATA_LIST_SQL = "SELECT items IS NOT NULL FROM export_package"


def stage_rows_sql(kind: RowKind) -> str:
    """The package's rows, numbered from 0 as the export lists them, each parsed once: its
    JSON type and the values of the kind's fields."""
    paths = ", ".join(f"'$.{field.name}'" for field in kind.fields)
    return f"""
        CREATE OR REPLACE TEMP TABLE export_rows AS
        SELECT idx, r, json_type(r) AS row_type,
               CASE WHEN json_type(r) = 'OBJECT' THEN json_extract(r, [{paths}]) END AS fields
        FROM (
            SELECT generate_subscripts(items, 1) - 1 AS idx, unnest(items) AS r
            FROM export_package
        )
    """


def first_failures_sql(kind: RowKind) -> str:
    """One row: the index of the first row failing a check; and of the first row repeating the
    unique key of a row before it (among rows that pass), with the index of that earlier row."""
    checks = [field_ok(kind, field) for field in kind.fields]
    ok = " AND ".join(["coalesce(row_type = 'OBJECT', false)", *checks])
    checked = f"SELECT idx, fields, {ok} AS ok FROM export_rows"
    first_bad = "(SELECT min(idx) FROM checked WHERE NOT ok)"
    unique = next((f for f in kind.fields if f.column == kind.unique), None)
    if unique is None:
        return f"WITH checked AS ({checked}) SELECT {first_bad}, NULL, NULL"
    key = field_value(kind, unique)
    return f"""
        WITH checked AS ({checked}),
        repeats AS (
            SELECT idx, min(idx) OVER (PARTITION BY {key}) AS first_idx
            FROM checked WHERE ok
            QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY idx) > 1
        )
        SELECT {first_bad}, repeat.idx, repeat.first_idx
        FROM (SELECT 1) LEFT JOIN (SELECT * FROM repeats ORDER BY idx LIMIT 1) repeat ON true
    """


def insert_sql(kind: RowKind, table: str) -> str:
    """The checked rows into `table`, in export order."""
    columns = ", ".join(f"{field_value(kind, f)} AS {f.column}" for f in kind.fields)
    return f"INSERT INTO {table} BY NAME SELECT {columns} FROM export_rows ORDER BY idx"
