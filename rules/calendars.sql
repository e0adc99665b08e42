-- R9 Calendars (sync_calendars on and the tenant enabled): an active linked user in scope whose
-- Emply calendar sync is on gets every Entra calendar it can edit. The default calendar arrives
-- enabled and cannot be disabled; others arrive disabled, and the user's choice is never
-- overwritten. A calendar gone or no longer editable is removed; so are all synced calendars
-- of a user who no longer qualifies, and of every user when calendar sync is switched off.
-- Enabled calendars get Entra's events of the window (set_events); Emply-made events are
-- created in Microsoft 365 once (create_entra_event).
-- reads: change_key, emply_event_outbox, emply_events, entra_calendars, entra_events, plan_links,
--        plan_users, stg_calendar_window, stg_calendars_read, stg_emply_users, stg_in_scope,
--        stg_pushed_event_ids, stg_synced_calendars
-- makes: calendar_users, calendars_wanted, calendars_synced, calendar_event_lists
-- writes: planned_calendar_events, planned_changes

DELETE FROM planned_calendar_events;

-- A user create_user makes in this run (plan_users.created, Emply id still null) qualifies too:
-- its calendars and their events arrive in the run that creates it.
CREATE OR REPLACE TEMP TABLE calendar_users AS
SELECT
    u.emply_user_id,
    u.entra_object_id,
    u.username,
    r.entra_object_id IS NOT NULL AS calendars_read
FROM plan_users u
JOIN stg_in_scope s ON s.entra_object_id = u.entra_object_id
LEFT JOIN stg_calendars_read r ON r.entra_object_id = u.entra_object_id
WHERE (SELECT calendars_on FROM stg_calendar_window) AND u.active AND u.calendar_sync_enabled;

-- The Entra calendars each qualifying user should have in Emply: those it can edit.
CREATE OR REPLACE TEMP TABLE calendars_wanted AS
SELECT
    cu.emply_user_id, cu.entra_object_id, cu.username,
    c.calendar_id AS entra_calendar_id, c.name, c.is_default, c.events_read
FROM calendar_users cu
JOIN entra_calendars c USING (entra_object_id)
WHERE cu.calendars_read AND c.can_edit;

-- Synced Emply calendars of linked users, with why they must go (null: they stay).
CREATE OR REPLACE TEMP TABLE calendars_synced AS
SELECT
    s.*,
    l.entra_object_id,
    u.username,
    CASE
        WHEN NOT (SELECT calendars_on FROM stg_calendar_window)
            THEN 'calendar sync is switched off for the tenant'
        WHEN NOT u.calendar_sync_enabled THEN 'the user switched calendar sync off in Emply'
        WHEN NOT u.active THEN 'the Emply user is not active'
        WHEN cu.emply_user_id IS NULL THEN 'the user is out of scope'
        WHEN NOT cu.calendars_read THEN NULL  -- mailbox not read this run: left as it is
        WHEN w.entra_calendar_id IS NOT NULL THEN NULL
        WHEN c.calendar_id IS NULL THEN 'the Entra calendar is gone'
        ELSE 'the Entra calendar is no longer editable (canEdit false)'
    END AS removal_reason
FROM stg_synced_calendars s
JOIN plan_links l USING (emply_user_id)
JOIN stg_emply_users u ON u.user_id = s.emply_user_id
LEFT JOIN calendar_users cu ON cu.emply_user_id = s.emply_user_id
LEFT JOIN calendars_wanted w
       ON w.emply_user_id = s.emply_user_id AND w.entra_calendar_id = s.entra_calendar_id
LEFT JOIN entra_calendars c
       ON c.entra_object_id = l.entra_object_id AND c.calendar_id = s.entra_calendar_id;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('add_calendar', w.emply_user_id, w.entra_object_id, w.entra_calendar_id),
    'add_calendar', 'R9', w.emply_user_id, w.entra_object_id, w.username,
    NULL,
    to_json({
        'entra_calendar_id': w.entra_calendar_id,
        'name': w.name,
        'enabled': w.is_default,
        'can_disable': NOT w.is_default
    }),
    'R9: Entra calendar "' || w.name || '" is editable and not in Emply yet; added '
        || CASE WHEN w.is_default THEN 'enabled (the default calendar cannot be disabled)'
                ELSE 'disabled (the user may enable it)' END
FROM calendars_wanted w
WHERE NOT EXISTS (
    SELECT 1 FROM stg_synced_calendars s
    WHERE s.emply_user_id = w.emply_user_id AND s.entra_calendar_id = w.entra_calendar_id
);

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('remove_calendar', emply_user_id, entra_object_id, calendar_id),
    'remove_calendar', 'R9', emply_user_id, entra_object_id, username,
    to_json({'calendar_id': calendar_id, 'name': name, 'enabled': enabled,
             'entra_calendar_id': entra_calendar_id}),
    to_json({'calendar_id': calendar_id, 'removed': true}),
    'R9: calendar "' || name || '" removed with its events: ' || removal_reason
FROM calendars_synced
WHERE removal_reason IS NOT NULL;

-- Events: Entra's side of each enabled calendar (copies of Emply-made events left out), and
-- the events Emply holds from earlier set_events, both as sorted lists to compare.
CREATE OR REPLACE TEMP TABLE calendar_event_lists AS
WITH enabled_calendars AS (
    SELECT w.*, s.calendar_id
    FROM calendars_wanted w
    LEFT JOIN stg_synced_calendars s
           ON s.emply_user_id = w.emply_user_id AND s.entra_calendar_id = w.entra_calendar_id
    WHERE w.events_read AND coalesce(s.enabled, w.is_default)
),
entra_side AS (
    SELECT entra_object_id, calendar_id AS entra_calendar_id,
           list({'entra_event_id': event_id, 'subject': subject, 'start': start_at, 'end': end_at}
                ORDER BY start_at, event_id) AS events
    FROM entra_events
    WHERE event_id NOT IN (SELECT event_id FROM stg_pushed_event_ids)
    GROUP BY ALL
),
emply_side AS (
    SELECT calendar_id,
           list({'entra_event_id': entra_event_id, 'subject': subject, 'start': start_at,
                 'end': end_at} ORDER BY start_at, entra_event_id) AS events
    FROM emply_events
    WHERE source = 'entra'
    GROUP BY ALL
)
SELECT
    c.*,
    coalesce(CAST(to_json(t.events) AS VARCHAR), '[]') AS entra_events_json,
    coalesce(CAST(to_json(m.events) AS VARCHAR), '[]') AS emply_events_json,
    coalesce(len(t.events), 0) AS entra_count,
    coalesce(len(m.events), 0) AS emply_count,
    change_key('set_events', c.emply_user_id, c.entra_object_id,
               {'calendar': c.entra_calendar_id,
                'events': sha256(coalesce(CAST(to_json(t.events) AS VARCHAR), '[]'))}) AS change_id
FROM enabled_calendars c
LEFT JOIN entra_side t USING (entra_object_id, entra_calendar_id)
LEFT JOIN emply_side m ON m.calendar_id = c.calendar_id;

-- The events themselves go to the plan-side table; the audit keeps their count and hash.
INSERT INTO planned_calendar_events (change_id, events)
SELECT change_id, json(entra_events_json)
FROM calendar_event_lists
WHERE entra_events_json <> emply_events_json;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_id,
    'set_events', 'R9', emply_user_id, entra_object_id, username,
    to_json({'count': emply_count, 'events_sha256': sha256(emply_events_json)}),
    to_json({
        'calendar_id': calendar_id,
        'entra_calendar_id': entra_calendar_id,
        'name': name,
        'from': (SELECT window_start FROM stg_calendar_window),
        'to': (SELECT window_end FROM stg_calendar_window),
        'count': entra_count,
        'events_sha256': sha256(entra_events_json)
    }),
    'R9: the events of calendar "' || name || '" from ' || (SELECT window_start FROM stg_calendar_window)
        || ' to ' || (SELECT window_end FROM stg_calendar_window) || ' differ from Entra ('
        || emply_count || ' in Emply, ' || entra_count || ' in Entra); refreshed'
FROM calendar_event_lists
WHERE entra_events_json <> emply_events_json;

-- Emply-made events of enabled synced calendars still editable in Entra: created there once.
-- The transaction id makes Graph return the first copy if a crash made us post it again.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
WITH pushable AS (
    SELECT o.*, w.emply_user_id, w.entra_object_id, w.username, s.name AS calendar_name,
           change_key('create_entra_event', w.emply_user_id, w.entra_object_id, o.event_id)
               AS change_id
    FROM emply_event_outbox o
    JOIN stg_synced_calendars s ON s.calendar_id = o.calendar_id AND s.emply_user_id = o.user_id
    JOIN calendars_wanted w
      ON w.emply_user_id = s.emply_user_id AND w.entra_calendar_id = s.entra_calendar_id
    WHERE s.enabled
)
SELECT
    change_id, 'create_entra_event', 'R9', emply_user_id, entra_object_id, username,
    NULL,
    to_json({
        'event_id': event_id,
        'calendar_id': calendar_id,
        'entra_calendar_id': entra_calendar_id,
        'subject': subject,
        'start': start_at,
        'end': end_at,
        'transaction_id': change_id
    }),
    'R9: event "' || subject || '" at ' || start_at || ' was made in Emply calendar "'
        || calendar_name || '"; created in Microsoft 365 once (transaction id ' || change_id || ')'
FROM pushable;
