"""A run's snapshots of both sides: Entra users with their scope, Emply users as the run left them.

These queries run on the tenant's warehouse at the end of a run (`$run_id` is the run). Their
columns are the columns of the history views `entra_user_snapshots` and `emply_user_snapshots`,
documented here once; `tenant` and `date` come from the Parquet folder names.
"""

from __future__ import annotations

import duckdb

# Entra users (and soft-deleted ones) as this run read them.
ENTRA_USERS = """
WITH run AS (
    SELECT run_id, coalesce(ended_at, started_at) AS taken_at FROM runs WHERE run_id = $run_id
),
connected_memberships AS (
    SELECT m.member_id AS entra_object_id, list_sort(list_distinct(list(c.group_name))) AS groups
    FROM entra_group_members m
    JOIN entra_groups g ON g.id = m.group_id
    JOIN connected_groups c ON lower(trim(c.group_name)) = lower(trim(g.display_name))
    WHERE m.member_type = 'user'
      AND (NOT m.transitive OR (SELECT transitive_groups FROM run_settings))
    GROUP BY m.member_id
),
scope AS (
    SELECT entra_object_id FROM scope_history WHERE run_id = $run_id
)
SELECT
    run.run_id,                                        -- the run that read the directory
    run.taken_at,                                      -- when that run ended
    u.id                       AS entra_object_id,
    u.user_principal_name,
    u.mail,
    u.display_name,
    u.user_type,                                       -- 'Member' or 'Guest'
    u.account_enabled,
    false                      AS deleted,             -- true: in Entra's deleted users
    coalesce(m.groups, [])     AS connected_groups,    -- connected groups it is a member of
    s.entra_object_id IS NOT NULL AS in_scope          -- the run's own answer (SPEC "in scope")
FROM entra_users u
CROSS JOIN run
LEFT JOIN connected_memberships m ON m.entra_object_id = u.id
LEFT JOIN scope s ON s.entra_object_id = u.id
UNION ALL
SELECT run.run_id, run.taken_at, d.id, d.user_principal_name, NULL, NULL, NULL, false, true,
       [], false
FROM entra_deleted_users d
CROSS JOIN run
WHERE d.id NOT IN (SELECT id FROM entra_users WHERE id IS NOT NULL)
"""

# Emply users as this run left them: the export it read, with its applied changes laid on top.
EMPLY_USERS = """
WITH run AS (
    SELECT run_id, coalesce(ended_at, started_at) AS taken_at FROM runs WHERE run_id = $run_id
),
applied AS (
    SELECT * FROM changes WHERE run_id = $run_id AND outcome = 'applied'
),
updates AS (
    SELECT
        emply_user_id,
        bool_or(kind = 'activate_user')   AS activated,
        bool_or(kind = 'deactivate_user') AS deactivated,
        any_value(CAST(json_extract(after, '$.roles') AS VARCHAR[]))
            FILTER (WHERE kind = 'set_roles') AS roles,
        any_value(entra_object_id) FILTER (WHERE kind = 'link_user') AS linked_to
    FROM applied
    WHERE emply_user_id IS NOT NULL
    GROUP BY emply_user_id
),
profiles AS (
    SELECT user_id, min(employee_id) AS employee_id
    FROM emply_employees WHERE user_id IS NOT NULL GROUP BY user_id
),
read_and_updated AS (
    SELECT
        u.user_id, u.username, u.email,
        CASE WHEN c.deactivated THEN false WHEN c.activated THEN true ELSE u.active END AS active,
        list_sort(list_distinct(coalesce(c.roles, u.roles))) AS roles,
        coalesce(u.employee_id, p.employee_id) AS employee_id,
        coalesce(c.linked_to, u.entra_object_id) AS entra_object_id,
        c.emply_user_id IS NOT NULL AS changed_by_run
    FROM emply_users u
    LEFT JOIN updates c ON c.emply_user_id = u.user_id
    LEFT JOIN profiles p ON p.user_id = u.user_id
),
created AS (
    SELECT
        json_extract_string(result, '$.user_id'), json_extract_string(after, '$.username'),
        json_extract_string(after, '$.email'), true,
        list_sort(CAST(json_extract(after, '$.roles') AS VARCHAR[])),
        json_extract_string(after, '$.employee_id'), entra_object_id, true
    FROM applied
    WHERE kind = 'create_user'
)
SELECT
    run.run_id,                              -- the run whose export and writes this is
    run.taken_at,                            -- when that run ended
    s.user_id,                               -- Emply user id
    s.username,
    s.email,
    s.active,
    s.roles,                                 -- role names held, sorted
    s.employee_id,                           -- the connected employee profile, null: none
    s.entra_object_id,                       -- the link (R1), null: not integration-managed
    s.changed_by_run                         -- the run applied a change to this user
FROM (SELECT * FROM read_and_updated UNION ALL SELECT * FROM created) s
CROSS JOIN run
"""


def snapshot_ready(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """The raw tables hold this run's complete inputs: it is the latest run and it planned."""
    row = con.execute(
        """
        SELECT (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1) = $run_id
           AND EXISTS (SELECT 1 FROM group_role_history WHERE run_id = $run_id)
        """,
        {"run_id": run_id},
    ).fetchone()
    return bool(row and row[0])
