-- Staging: the calendar switch and window of this run (R9), and whose mailboxes were read.
-- reads: emply_calendars, emply_events, mailbox_reads, run_calendar_window, run_settings
-- makes: stg_calendar_window, stg_calendars_read, stg_synced_calendars, stg_pushed_event_ids
CREATE OR REPLACE TEMP TABLE stg_calendar_window AS
SELECT
    coalesce(
        (SELECT calendars_on FROM run_calendar_window),
        (SELECT sync_calendars FROM run_settings),
        false
    )                                        AS calendars_on,
    (SELECT window_start FROM run_calendar_window) AS window_start,
    (SELECT window_end FROM run_calendar_window)   AS window_end;

-- Users whose calendar list Graph gave this run: only their calendars may be added or removed.
CREATE OR REPLACE TEMP TABLE stg_calendars_read AS
SELECT DISTINCT entra_object_id
FROM mailbox_reads
WHERE what = 'calendars' AND status = 200;

-- Emply calendars the sync made: they mirror an Entra calendar (Emply's own ones have none).
CREATE OR REPLACE TEMP TABLE stg_synced_calendars AS
SELECT user_id AS emply_user_id, calendar_id, name, enabled, can_disable, entra_calendar_id
FROM emply_calendars
WHERE entra_calendar_id IS NOT NULL;

-- Entra events that are copies of Emply-made events: Emply owns those, set_events leaves them.
CREATE OR REPLACE TEMP TABLE stg_pushed_event_ids AS
SELECT DISTINCT entra_event_id AS event_id
FROM emply_events
WHERE source = 'emply' AND entra_event_id IS NOT NULL;
