-- A planned change's stable id: tenant, kind, object and target values (exactly-once writes).
-- reads: run_settings
-- makes: change_key
CREATE OR REPLACE TEMP MACRO change_key(kind, emply_id, entra_id, target) AS
    substr(sha256(concat_ws('|',
        (SELECT tenant FROM run_settings), kind,
        coalesce(emply_id, ''), coalesce(entra_id, ''), coalesce(CAST(target AS VARCHAR), '')
    )), 1, 32);
