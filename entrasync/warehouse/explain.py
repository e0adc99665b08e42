"""`entrasync explain`: the link, scope, changes and findings of one user, from the warehouse."""

from __future__ import annotations

from typing import TextIO

import duckdb

from entrasync.errors import EntrasyncError

# Every id the user is known by (Emply user ids, Entra object ids), from username, e-mail or UPN.
IDENTITIES_SQL = """
WITH wanted AS (SELECT lower(trim(?)) AS key)
SELECT DISTINCT emply_user_id, entra_object_id FROM (
    SELECT u.user_id AS emply_user_id, u.entra_object_id FROM emply_users u, wanted
    WHERE lower(trim(u.username)) = key OR lower(trim(u.email)) = key
    UNION ALL
    SELECT l.emply_user_id, e.id FROM entra_users e, wanted
    LEFT JOIN links l ON l.entra_object_id = e.id
    WHERE lower(e.user_principal_name) = key OR lower(e.mail) = key
    UNION ALL
    SELECT emply_user_id, entra_object_id FROM links, wanted
    WHERE lower(username) = key OR lower(entra_upn) = key OR entra_mail = key
    UNION ALL
    SELECT emply_user_id, entra_object_id FROM changes, wanted WHERE lower(subject) = key
)
"""

# A run the operator released (R4): its deactivations were allowed past the thresholds.
RELEASED = " [allow_deactivations]"

HISTORY_SQL = """
SELECT r.started_at, c.run_id, c.kind, c.rule_id, c.outcome, c.reason, c.before, c.after, c.error,
       r.allow_deactivations
FROM changes c JOIN runs r USING (run_id)
WHERE list_contains($emply_ids, c.emply_user_id) OR list_contains($entra_ids, c.entra_object_id)
   OR list_contains($names, lower(c.subject))
   -- a dispute names the user among its candidates
   OR (c.kind = 'finding' AND list_has_any($names, list_transform(
           coalesce(CAST(c.after -> 'candidates' AS VARCHAR[]), []), lambda x: lower(x))))
ORDER BY r.started_at, c.kind
"""


def explain_user(con: duckdb.DuckDBPyConnection, user: str, out: TextIO) -> None:
    rows = con.execute(IDENTITIES_SQL, [user]).fetchall()
    emply_ids = sorted({r[0] for r in rows if r[0]})
    entra_ids = sorted({r[1] for r in rows if r[1]})
    if not emply_ids and not entra_ids:
        raise EntrasyncError(f"no user {user!r} in this tenant's warehouse")
    print(f"user {user}: Emply {', '.join(emply_ids) or '-'} · Entra {', '.join(entra_ids) or '-'}",
          file=out)  # fmt: skip
    names = _names(con, user, emply_ids, entra_ids)
    run = con.execute(
        "SELECT run_id, status, error, allow_deactivations FROM runs"
        " ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if run:
        print(f"latest run: {run[0]} {run[1]}{RELEASED if run[3] else ''}"
              + (f": {run[2]}" if run[2] else ""), file=out)  # fmt: skip
    _print_links(con, emply_ids, entra_ids, out)
    _print_scope(con, entra_ids, out)
    _print_history(con, emply_ids, entra_ids, names, out)
    _print_review_queue(con, names, out)


def _print_links(
    con: duckdb.DuckDBPyConnection, emply_ids: list[str], entra_ids: list[str], out: TextIO
) -> None:
    links = con.execute(
        "SELECT username, entra_upn, how, linked_run_id, emply_deleted FROM links"
        " WHERE list_contains(?, emply_user_id) OR list_contains(?, entra_object_id)",
        [emply_ids, entra_ids],
    ).fetchall()
    for username, upn, how, run_id, deleted in links:
        state = " (Emply user deleted since)" if deleted else ""
        print(f"link: {username} ↔ {upn}, by {how}, in run {run_id}{state}", file=out)
    if not links:
        print("link: none (not integration-managed)", file=out)


def _print_scope(con: duckdb.DuckDBPyConnection, entra_ids: list[str], out: TextIO) -> None:
    scope = con.execute(
        "SELECT s.run_id, s.groups FROM scope_history s JOIN runs r USING (run_id)"
        " WHERE list_contains(?, s.entra_object_id) ORDER BY r.started_at DESC LIMIT 1",
        [entra_ids],
    ).fetchone()
    # Scope is known for runs that planned; a run that failed before (a bad read) knows none.
    latest = con.execute(
        "SELECT run_id FROM runs r WHERE EXISTS"
        " (SELECT 1 FROM group_role_history h WHERE h.run_id = r.run_id)"
        " ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if scope and latest and scope[0] == latest[0]:
        print(f"scope: in scope through {', '.join(scope[1])} (latest planned run {latest[0]})",
              file=out)  # fmt: skip
    elif scope:
        print(f"scope: out of scope; last in scope in run {scope[0]} through "
              f"{', '.join(scope[1])}", file=out)  # fmt: skip
    else:
        print("scope: never in scope", file=out)


def _print_history(
    con: duckdb.DuckDBPyConnection,
    emply_ids: list[str],
    entra_ids: list[str],
    names: list[str],
    out: TextIO,
) -> None:
    print("history:", file=out)
    history = con.execute(
        HISTORY_SQL, {"emply_ids": emply_ids, "entra_ids": entra_ids, "names": names}
    ).fetchall()
    for started, run_id, kind, rule, outcome, reason, _before, after, error, allowed in history:
        detail = f" → {after}" if after and kind != "finding" else ""
        failure = f" ({error})" if error and outcome in ("failed", "skipped") else ""
        released = RELEASED if allowed else ""
        print(f"  {started:%Y-%m-%d %H:%M} run {run_id[:8]}{released} {kind:<16} {rule:<4} "
              f"{outcome}{failure}: {reason}{detail}", file=out)  # fmt: skip
    if not history:
        print("  no changes", file=out)


def _print_review_queue(con: duckdb.DuckDBPyConnection, names: list[str], out: TextIO) -> None:
    queued = con.execute(
        "SELECT run_id, why, candidates FROM review_queue"
        " WHERE list_contains($names, lower(subject))"
        " OR list_has_any($names, list_transform(candidates, lambda x: lower(x)))",
        {"names": names},
    ).fetchall()
    for run_id, why, candidates in queued:
        print(f"review queue (run {run_id[:8]}): {why}: {', '.join(candidates)}", file=out)


def _names(
    con: duckdb.DuckDBPyConnection, user: str, emply_ids: list[str], entra_ids: list[str]
) -> list[str]:
    """Every name the user goes by (lower case): disputes and findings name users, not ids."""
    rows = con.execute(
        """
        SELECT lower(trim(username)) FROM emply_users WHERE list_contains($emply, user_id)
        UNION SELECT lower(trim(username)) FROM links WHERE list_contains($emply, emply_user_id)
        UNION SELECT lower(user_principal_name) FROM entra_users WHERE list_contains($entra, id)
        UNION SELECT lower(entra_upn) FROM links WHERE list_contains($entra, entra_object_id)
        """,
        {"emply": emply_ids, "entra": entra_ids},
    ).fetchall()
    return sorted({user.strip().lower()} | {row[0] for row in rows if row[0]})
