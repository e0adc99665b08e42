-- The per-tenant warehouse: every table and column is documented here, once.
-- Three kinds of table: raw extracts (replaced by each run), state (kept across runs, only this
-- tenant's run writes them) and audit (append-only history of runs and changes).

------------------------------------------------------------------------------------------------
-- Raw extracts: what the sources said in the current run. Replaced by each run's load.
-- No keys or NOT NULL here: the inputs gate reports duplicates and gaps by name instead of
-- a load crashing on them.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS entra_users (
    id                        VARCHAR,             -- Entra object id (GUID); the link key
    user_principal_name       VARCHAR,             -- UPN as Graph returns it (guests: ...#EXT#@...)
    mail                      VARCHAR,             -- primary SMTP address, may be null
    other_mails               VARCHAR[],           -- additional addresses (guests often only here)
    display_name              VARCHAR,
    given_name                VARCHAR,
    surname                   VARCHAR,
    job_title                 VARCHAR,
    department                VARCHAR,
    mobile_phone              VARCHAR,
    account_enabled           BOOLEAN NOT NULL,    -- false: disabled sign-in, out of scope (R3)
    user_type                 VARCHAR,             -- 'Member' or 'Guest' (B2B)
    on_premises_sync_enabled  BOOLEAN              -- true: mastered on-premises, never written (R7)
);

CREATE TABLE IF NOT EXISTS entra_groups (
    id            VARCHAR, -- Entra group object id
    display_name  VARCHAR              -- what settings' groups[].group names
);

CREATE TABLE IF NOT EXISTS entra_group_members (
    group_id     VARCHAR NOT NULL, -- entra_groups.id
    member_id    VARCHAR NOT NULL, -- entra_users.id, or entra_groups.id for a nested group
    member_type  VARCHAR NOT NULL, -- 'user' or 'group'
    transitive   BOOLEAN NOT NULL  -- false: direct member; true: read from transitiveMembers
);

CREATE TABLE IF NOT EXISTS entra_deleted_users (
    id                   VARCHAR, -- object id of a soft-deleted user
    user_principal_name  VARCHAR,
    deleted_at           TIMESTAMPTZ          -- Graph deletedDateTime
);

CREATE TABLE IF NOT EXISTS emply_users (
    user_id                VARCHAR, -- Emply user id
    username               VARCHAR NOT NULL,
    email                  VARCHAR,
    first_name             VARCHAR,
    last_name              VARCHAR,
    active                 BOOLEAN NOT NULL,
    roles                  VARCHAR[] NOT NULL,  -- role names the user holds now
    employee_id            VARCHAR,             -- the connected employee profile, if any
    entra_object_id        VARCHAR,             -- the link (R1); null: not integration-managed
    calendar_sync_enabled  BOOLEAN NOT NULL,    -- the user's own calendar-sync switch (R9)
    photo_sha256           VARCHAR              -- hex SHA-256 of the Emply picture, null: none
);

CREATE TABLE IF NOT EXISTS emply_employees (
    employee_id   VARCHAR,
    email         VARCHAR,
    first_name    VARCHAR,
    last_name     VARCHAR,
    job_title     VARCHAR,
    department    VARCHAR,
    mobile_phone  VARCHAR,
    user_id       VARCHAR,          -- emply_users.user_id it is connected to, null: none
    archived      BOOLEAN NOT NULL  -- Emply's lifecycle has archived the employee (R10)
);

-- The employee profile of each Emply user that has one (SPEC "employee profile"): an employee
-- whose user id is the user's, or whose employee id the user holds; the lowest employee id
-- when there are several. Two equi-joins, not one OR join (DuckDB runs that as a nested loop).
-- The rules (rules/staging/02_emply.sql) and the R8 photo read both take it from here.
CREATE VIEW IF NOT EXISTS emply_user_profiles AS
SELECT user_id, min(employee_id) AS employee_id, arg_min(archived, employee_id) AS archived
FROM (
    SELECT user_id, employee_id, archived FROM emply_employees WHERE user_id IS NOT NULL
    UNION ALL
    SELECT u.user_id, p.employee_id, p.archived
    FROM emply_users u JOIN emply_employees p ON p.employee_id = u.employee_id
)
GROUP BY user_id;

-- Enabled Entra users in a connected group (entra_group_members holds only those groups'
-- members) that no Emply user is linked to yet: the users a run may link or create (R1, R2).
-- Their mailboxes and photos are read with the linked users', so a user linked or created in a
-- run gets its calendars and photo in that same run. A superset: the rules decide.
CREATE VIEW IF NOT EXISTS entra_users_to_link AS
SELECT DISTINCT e.id AS entra_object_id
FROM entra_users e
JOIN entra_group_members m ON m.member_id = e.id AND m.member_type = 'user'
WHERE e.account_enabled
  AND e.id NOT IN (SELECT entra_object_id FROM emply_users WHERE entra_object_id IS NOT NULL);

CREATE TABLE IF NOT EXISTS emply_roles (
    role_id   VARCHAR,
    name      VARCHAR,
    is_admin  BOOLEAN NOT NULL -- an administrator role is never removed by the sync (R5)
);

------------------------------------------------------------------------------------------------
-- Run inputs: the settings of the current run as tables, so rules can join them.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS run_settings (
    run_id                    VARCHAR, -- runs.run_id of the current run
    tenant                    VARCHAR, -- pipeline tenant key
    entra_tenant_id           VARCHAR, -- settings.tenant_id
    sync_roles                BOOLEAN,
    sync_calendars            BOOLEAN,
    transitive_groups         BOOLEAN,
    hybrid                    BOOLEAN,
    write_update              BOOLEAN,
    write_create              BOOLEAN,
    write_delete              BOOLEAN,
    max_deactivations         INTEGER,
    max_deactivation_percent  DOUBLE,
    allow_deactivations       BOOLEAN
);

CREATE TABLE IF NOT EXISTS connected_groups (
    group_name  VARCHAR NOT NULL, -- settings groups[].group (an Entra display name)
    role        VARCHAR NOT NULL  -- settings groups[].role (an Emply role name)
);

CREATE TABLE IF NOT EXISTS settings_domains (
    domain  VARCHAR NOT NULL -- a verified domain of the tenant, lower case
);

------------------------------------------------------------------------------------------------
-- State: kept across runs; written only by this tenant's runs.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS links (
    emply_user_id    VARCHAR PRIMARY KEY, -- Emply user
    entra_object_id  VARCHAR NOT NULL,    -- Entra user it is tied to (R1)
    how              VARCHAR NOT NULL,    -- 'created' (R2), 'username', 'mail', 'other_mail', 'existing'
    linked_run_id    VARCHAR,             -- run that made the link
    username         VARCHAR,             -- last seen Emply username
    entra_upn        VARCHAR,             -- last seen Entra UPN (changes are recorded, R1)
    entra_mail       VARCHAR,             -- last seen Entra mail
    emply_deleted    BOOLEAN DEFAULT false -- the Emply user has gone from the export (R7 delete)
);

CREATE TABLE IF NOT EXISTS sync_deactivated (
    emply_user_id  VARCHAR PRIMARY KEY, -- deactivated by the sync (R3), so it may reactivate it
    run_id         VARCHAR NOT NULL     -- run whose deactivate_user was applied
);

CREATE TABLE IF NOT EXISTS group_role_history (
    run_id      VARCHAR NOT NULL, -- run that saw this mapping
    group_name  VARCHAR NOT NULL, -- connected group (display name)
    group_id    VARCHAR,          -- its Entra id when it resolved, null when not found
    role        VARCHAR NOT NULL, -- Emply role it mapped to in that run (R5 step 2)
    seen_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS scope_history (
    run_id           VARCHAR NOT NULL, -- run that computed the scope
    entra_object_id  VARCHAR NOT NULL, -- an in-scope Entra user
    groups           VARCHAR[] NOT NULL -- the connected groups that put it in scope
);

------------------------------------------------------------------------------------------------
-- Plan: the current run's decisions (replaced by each plan).
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS planned_changes (
    change_id        VARCHAR PRIMARY KEY, -- stable: hash of tenant, kind, object and target values
    kind             VARCHAR NOT NULL,    -- SPEC change kind, or 'finding'
    rule_id          VARCHAR NOT NULL,    -- R1..R10
    emply_user_id    VARCHAR,             -- Emply object touched (null for create_user)
    entra_object_id  VARCHAR,             -- Entra object involved
    subject          VARCHAR NOT NULL,    -- human key: username or UPN
    before           JSON,                -- the values before the change
    after            JSON,                -- the target values the write sets
    reason           VARCHAR NOT NULL     -- the facts that led to the change, in words
);

CREATE TABLE IF NOT EXISTS review_queue (
    run_id      VARCHAR NOT NULL, -- run that found the dispute
    subject     VARCHAR NOT NULL, -- the user in dispute (Emply username or Entra UPN)
    side        VARCHAR NOT NULL, -- 'emply' or 'entra': which side has several candidates
    candidates  VARCHAR[] NOT NULL, -- the candidates on the other side
    why         VARCHAR NOT NULL
);

------------------------------------------------------------------------------------------------
-- Audit: append-only history.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS runs (
    run_id               VARCHAR PRIMARY KEY, -- uuid of the sync run (the Prefect flow run id when there is one)
    tenant               VARCHAR NOT NULL,
    started_at           TIMESTAMPTZ NOT NULL,
    ended_at             TIMESTAMPTZ,
    status               VARCHAR NOT NULL, -- running, completed, planned (dry run), blocked, failed
    dry_run              BOOLEAN NOT NULL,
    allow_deactivations  BOOLEAN NOT NULL,
    planned              INTEGER,          -- number of planned changes (findings included)
    applied              INTEGER,
    failed               INTEGER,
    skipped              INTEGER,
    error                VARCHAR           -- why the run failed or was blocked
);

CREATE TABLE IF NOT EXISTS changes (
    run_id           VARCHAR NOT NULL, -- run that planned the change
    change_id        VARCHAR NOT NULL, -- planned_changes.change_id
    kind             VARCHAR NOT NULL,
    rule_id          VARCHAR NOT NULL,
    emply_user_id    VARCHAR,
    entra_object_id  VARCHAR,
    subject          VARCHAR NOT NULL,
    before           JSON,
    after            JSON,
    reason           VARCHAR NOT NULL,
    outcome          VARCHAR NOT NULL, -- planned, applied, failed, skipped, recorded (findings)
    error            VARCHAR,          -- the write's error when outcome = failed
    result           JSON,             -- what the write returned that later runs need (new ids)
    decided_at       TIMESTAMPTZ NOT NULL,
    applied_at       TIMESTAMPTZ,
    PRIMARY KEY (run_id, change_id)
);

CREATE TABLE IF NOT EXISTS extract_counts (
    run_id      VARCHAR NOT NULL, -- run that extracted
    table_name  VARCHAR NOT NULL, -- raw extract table (entra_users, emply_users, ...)
    row_count   BIGINT NOT NULL   -- rows it held after the load
);

CREATE TABLE IF NOT EXISTS validation_results (
    run_id            VARCHAR NOT NULL, -- run that validated
    suite             VARCHAR NOT NULL, -- 'inputs' or 'plan'
    expectation       VARCHAR NOT NULL, -- what was expected, in words (names the table and column)
    expectation_type  VARCHAR NOT NULL, -- the Great Expectations expectation type
    success           BOOLEAN NOT NULL,
    element_count     BIGINT,           -- rows checked
    unexpected_count  BIGINT,           -- rows that broke it
    sample            JSON              -- a few offending values
);

------------------------------------------------------------------------------------------------
-- Mailboxes (R8 pictures, R9 calendars): raw extracts, replaced by each run's mailbox read.
-- Times are text in one form, UTC 'YYYY-MM-DDTHH:MM:SSZ', so both sides compare as written.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS emply_calendars (
    user_id            VARCHAR, -- emply_users.user_id whose calendar it is
    calendar_id        VARCHAR, -- Emply calendar id
    name               VARCHAR,
    enabled            BOOLEAN, -- the user's choice: its events are synced (kept by the sync, R9)
    can_disable        BOOLEAN, -- false for the default calendar, which stays enabled (R9)
    entra_calendar_id  VARCHAR  -- the Entra calendar it mirrors; null: made in Emply, never touched
);

CREATE TABLE IF NOT EXISTS emply_events (
    event_id        VARCHAR, -- Emply event id
    user_id         VARCHAR, -- emply_users.user_id
    calendar_id     VARCHAR, -- emply_calendars.calendar_id
    subject         VARCHAR,
    start_at        VARCHAR, -- UTC text
    end_at          VARCHAR, -- UTC text
    source          VARCHAR, -- 'entra': synced in by set_events; 'emply': made in Emply
    entra_event_id  VARCHAR  -- the Entra event it mirrors, or the copy an Emply-made one became
);

CREATE TABLE IF NOT EXISTS emply_event_outbox (
    event_id           VARCHAR, -- an Emply-made event not yet created in Microsoft 365
    user_id            VARCHAR, -- emply_users.user_id
    calendar_id        VARCHAR, -- emply_calendars.calendar_id it was made in
    entra_calendar_id  VARCHAR, -- the Entra calendar that calendar mirrors, if any
    subject            VARCHAR,
    start_at           VARCHAR, -- UTC text
    end_at             VARCHAR  -- UTC text
);

CREATE TABLE IF NOT EXISTS mailbox_reads (
    entra_object_id  VARCHAR, -- an Entra user whose mailbox this run asked for
    what             VARCHAR, -- 'calendars' or 'photo'
    status           INTEGER, -- Graph's answer: 200, or 404 (no mailbox, no photo)
    error            VARCHAR  -- Graph's error message when status is not 200
);

CREATE TABLE IF NOT EXISTS entra_calendars (
    entra_object_id  VARCHAR, -- the Entra user owning the mailbox
    calendar_id      VARCHAR, -- Entra calendar id
    name             VARCHAR,
    can_edit         BOOLEAN, -- editor or owner; only these are synced (R9)
    is_default       BOOLEAN, -- the mailbox's default calendar
    events_read      BOOLEAN  -- its calendarView was read this run (entra_events holds the window)
);

CREATE TABLE IF NOT EXISTS entra_events (
    entra_object_id  VARCHAR, -- the Entra user owning the mailbox
    calendar_id      VARCHAR, -- entra_calendars.calendar_id
    event_id         VARCHAR, -- Entra event id (occurrences of a series have their own)
    subject          VARCHAR,
    start_at         VARCHAR, -- UTC text
    end_at           VARCHAR  -- UTC text
);

CREATE TABLE IF NOT EXISTS entra_photos (
    entra_object_id  VARCHAR, -- an R8 candidate: linked without an employee profile, or to link
    media_etag       VARCHAR, -- Graph's @odata.mediaEtag; null: no photo
    content_type     VARCHAR, -- e.g. image/jpeg
    sha256           VARCHAR, -- hex SHA-256 of the photo bytes; null: no photo
    size_bytes       BIGINT
);

CREATE TABLE IF NOT EXISTS entra_photo_content (
    entra_object_id  VARCHAR, -- photo bytes read this run for a set_photo; never in the audit
    sha256           VARCHAR, -- hex SHA-256 of content
    content          BLOB
);

CREATE TABLE IF NOT EXISTS run_calendar_window (
    run_id        VARCHAR, -- runs.run_id of the current run
    calendars_on  BOOLEAN, -- sync_calendars and the tenant enabled; off: synced calendars go (R9)
    window_start  VARCHAR, -- UTC text: events from here (midnight UTC of the run's day)
    window_end    VARCHAR  -- UTC text: to here (window_start + calendar_window_days)
);

-- State: the last photo seen per Entra user, so unchanged photos are not downloaded again (R8).
CREATE TABLE IF NOT EXISTS entra_photo_seen (
    entra_object_id  VARCHAR PRIMARY KEY, -- Entra user
    media_etag       VARCHAR,             -- @odata.mediaEtag when last downloaded
    content_type     VARCHAR,
    sha256           VARCHAR,             -- hex SHA-256 of those bytes
    size_bytes       BIGINT,
    run_id           VARCHAR              -- run that downloaded them
);

-- State: when each R8 candidate's photo metadata was last read, and what it showed. A run reads
-- the never-checked, those whose photo is not what Emply holds, and up to photo_checks_per_run
-- of the others, stalest first; the rest keep what their last check saw (entra_photo_seen).
CREATE TABLE IF NOT EXISTS entra_photo_checks (
    entra_object_id  VARCHAR PRIMARY KEY, -- Entra user
    checked_at       TIMESTAMPTZ,         -- when its photo metadata was last read
    has_photo        BOOLEAN,             -- false: Graph answered 404 (no photo) then
    run_id           VARCHAR              -- run that read it
);

------------------------------------------------------------------------------------------------
-- State: incremental (delta) reads of the Entra directory (entrasync/extract/entra.py, extract/directory/).
-- With stored deltaLinks a run patches entra_users, entra_groups and entra_group_members with
-- Graph's changes instead of replacing them; the tables then hold what a full read would give.
-- No links (first run), a 410 from Graph or another fingerprint (tenant, Graph URL, connected
-- groups, transitive flag) means a full read, which stores new links in the same transaction.
------------------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS entra_delta_links (
    collection   VARCHAR PRIMARY KEY,  -- 'users' or 'groups'
    delta_link   VARCHAR NOT NULL,     -- Graph's @odata.deltaLink without the Graph base URL
    fingerprint  VARCHAR NOT NULL,     -- hash of what the tables were read under (see above)
    saved_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS entra_memberships (
    group_id     VARCHAR NOT NULL, -- a tracked group (entra_tracked_groups)
    member_id    VARCHAR NOT NULL, -- its direct member as Graph last reported it (may be gone since)
    member_type  VARCHAR NOT NULL  -- 'user' or 'group'
);

CREATE TABLE IF NOT EXISTS entra_tracked_groups (
    group_id  VARCHAR PRIMARY KEY -- a connected group, or (transitive) one nested below it, whose
                                  -- direct members entra_memberships holds in full
);

CREATE TABLE IF NOT EXISTS entra_directory_reads (
    read_at        TIMESTAMPTZ NOT NULL, -- when an Entra directory read finished (audit: kept)
    mode           VARCHAR NOT NULL,     -- 'full' or 'delta'
    reason         VARCHAR,              -- why a full read: no links yet, 410, settings changed
    objects        JSON NOT NULL,        -- objects Graph sent, per collection (users, groups, ...)
    minimum_pages  INTEGER NOT NULL,     -- sum of ceil(objects / 999) per collection, at least 1
    pages          INTEGER NOT NULL,     -- pages actually read (split /users reads cost more)
    seconds        DOUBLE NOT NULL       -- wall time of the read
);

-- Plan side of set_events (R9), replaced by each plan: the events the write sends. The audit's
-- after holds only their count and hash, so meeting subjects never enter the history.
CREATE TABLE IF NOT EXISTS planned_calendar_events (
    change_id  VARCHAR PRIMARY KEY, -- planned_changes.change_id of a set_events
    events     JSON NOT NULL        -- [{entra_event_id, subject, start, end}], UTC text times
);
