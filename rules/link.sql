-- R1 Link: keep links by object id; link an unlinked Emply user to the one in-scope Entra user
-- whose UPN equals its username, or whose mail / otherMails hold its e-mail (guests: mail only).
-- A match that is not unique on either side links nobody: it goes to the review queue.
-- reads: change_key, links, run_settings, stg_emply_users, stg_entra_users, stg_in_scope
-- makes: link_candidates, link_counts, disputed_emply, disputed_entra, plan_links
-- writes: planned_changes, review_queue

-- Every possible pair, with the strongest reason it matched.
CREATE OR REPLACE TEMP TABLE link_candidates AS
WITH unlinked_emply AS (
    SELECT * FROM stg_emply_users WHERE entra_object_id IS NULL
),
linkable_entra AS (
    SELECT e.*
    FROM stg_entra_users e
    JOIN stg_in_scope USING (entra_object_id)
    WHERE entra_object_id NOT IN (
        SELECT entra_object_id FROM stg_emply_users WHERE entra_object_id IS NOT NULL
    )
),
pairs AS (
    SELECT u.user_id, e.entra_object_id, 1 AS strength, 'username' AS how
    FROM unlinked_emply u JOIN linkable_entra e ON u.username_key = e.upn_key AND NOT e.is_guest
    UNION ALL
    SELECT u.user_id, e.entra_object_id, 2, 'mail'
    FROM unlinked_emply u JOIN linkable_entra e ON u.email_key = e.mail_key
    UNION ALL
    SELECT u.user_id, e.entra_object_id, 3, 'other_mail'
    FROM (SELECT entra_object_id, unnest(other_mail_keys) AS other_mail_key FROM linkable_entra) e
    JOIN unlinked_emply u ON u.email_key = e.other_mail_key
)
SELECT user_id AS emply_user_id, entra_object_id, arg_min(how, strength) AS how
FROM pairs
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE link_counts AS
SELECT
    c.*,
    count(*) OVER (PARTITION BY emply_user_id)   AS entra_candidates,
    count(*) OVER (PARTITION BY entra_object_id) AS emply_candidates
FROM link_candidates c;

-- Users with more than one candidate on either side: nobody is linked or created for them.
CREATE OR REPLACE TEMP TABLE disputed_emply AS
SELECT DISTINCT emply_user_id FROM link_counts WHERE entra_candidates > 1 OR emply_candidates > 1;
CREATE OR REPLACE TEMP TABLE disputed_entra AS
SELECT DISTINCT entra_object_id FROM link_counts WHERE entra_candidates > 1 OR emply_candidates > 1;

INSERT INTO review_queue (run_id, subject, side, candidates, why)
SELECT
    (SELECT run_id FROM run_settings), u.username, 'emply',
    list_sort(list(e.upn)),
    'Emply user ' || u.username || ' matches ' || count(*) || ' Entra users'
FROM link_counts c
JOIN stg_emply_users u ON u.user_id = c.emply_user_id
JOIN stg_entra_users e ON e.entra_object_id = c.entra_object_id
WHERE c.entra_candidates > 1
GROUP BY u.username
UNION ALL
SELECT
    (SELECT run_id FROM run_settings), e.upn, 'entra',
    list_sort(list(u.username)),
    'Entra user ' || e.upn || ' matches ' || count(*) || ' Emply users'
FROM link_counts c
JOIN stg_emply_users u ON u.user_id = c.emply_user_id
JOIN stg_entra_users e ON e.entra_object_id = c.entra_object_id
WHERE c.emply_candidates > 1
GROUP BY e.upn;

INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', NULL, NULL, {'dispute': subject, 'side': side}),
    'finding', 'R1', NULL, NULL, subject,
    NULL, to_json({'candidates': candidates}),
    'R1: ' || why || ' (' || array_to_string(candidates, ', ')
        || '); not linked, nothing created, waiting in the review queue'
FROM review_queue
WHERE run_id = (SELECT run_id FROM run_settings);

-- Unique pairs are linked.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('link_user', c.emply_user_id, c.entra_object_id, NULL),
    'link_user', 'R1', c.emply_user_id, c.entra_object_id, u.username,
    to_json({'entra_object_id': NULL}),
    to_json({'entra_object_id': c.entra_object_id, 'how': c.how}),
    'R1: ' || CASE c.how
        WHEN 'username' THEN 'Emply username ' || u.username || ' equals Entra UPN ' || e.upn
        WHEN 'mail' THEN 'Emply e-mail ' || u.email_key || ' equals Entra mail of ' || e.upn
        ELSE 'Emply e-mail ' || u.email_key || ' is one of the otherMails of ' || e.upn
    END
FROM link_counts c
JOIN stg_emply_users u ON u.user_id = c.emply_user_id
JOIN stg_entra_users e ON e.entra_object_id = c.entra_object_id
WHERE c.entra_candidates = 1 AND c.emply_candidates = 1;

-- The links as they stand after this plan: kept ones plus the ones planned above.
CREATE OR REPLACE TEMP TABLE plan_links AS
SELECT user_id AS emply_user_id, entra_object_id, false AS new_link
FROM stg_emply_users WHERE entra_object_id IS NOT NULL
UNION ALL
SELECT emply_user_id, entra_object_id, true
FROM planned_changes WHERE kind = 'link_user';

-- R1: a kept link whose UPN or mail changed is recorded, not treated as a leaver.
INSERT INTO planned_changes
    (change_id, kind, rule_id, emply_user_id, entra_object_id, subject, before, after, reason)
SELECT
    change_key('finding', l.emply_user_id, l.entra_object_id,
               {'upn': e.upn, 'mail': e.mail_key}),
    'finding', 'R1', l.emply_user_id, l.entra_object_id, e.upn,
    to_json({'upn': s.entra_upn, 'mail': s.entra_mail}),
    to_json({'upn': e.upn, 'mail': e.mail_key}),
    'R1: Entra user ' || l.entra_object_id || ' changed its '
        || CASE WHEN s.entra_upn IS DISTINCT FROM e.upn THEN 'UPN from ' || s.entra_upn || ' to ' || e.upn
                ELSE 'mail from ' || coalesce(s.entra_mail, '(none)') || ' to '
                     || coalesce(e.mail_key, '(none)') END
        || '; the link by object id is kept'
FROM plan_links l
JOIN links s USING (emply_user_id)
JOIN stg_entra_users e ON e.entra_object_id = l.entra_object_id
WHERE NOT l.new_link
  AND (s.entra_upn IS DISTINCT FROM e.upn OR s.entra_mail IS DISTINCT FROM e.mail_key);
