-- The analysts' history: views in data/audit.duckdb over the Parquet files under data/audit/.
-- Runs never write this file; they append Parquet files, so it can be queried while they run.
--
-- One base view per exported table, each over data/audit/<table>/tenant=*/date=*/*.parquet
-- (history_views.py creates them; a table with no files yet gets an empty view with its columns):
--   runs, changes, review_queue, validation_results
--       the per-tenant warehouse's tables of the same names (columns in schema.sql), one file
--       per run;
--   entra_user_snapshots, emply_user_snapshots
--       both sides as each run left them (columns in snapshots.py).
-- Every base view also has the two folder columns:
--   tenant  VARCHAR  -- pipeline tenant key
--   date    DATE     -- UTC day the run started
-- The views below are built on those.

-- Findings: changes that change nothing (disputes, R10 leavers), recorded for people to act on.
CREATE OR REPLACE VIEW findings AS
SELECT * FROM changes WHERE kind = 'finding';

-- The day's last snapshot per tenant: "who had which role on date D" is
-- SELECT ... FROM emply_users_daily WHERE date = D.
CREATE OR REPLACE VIEW emply_users_daily AS
SELECT * FROM emply_user_snapshots
QUALIFY taken_at = max(taken_at) OVER (PARTITION BY tenant, date);

CREATE OR REPLACE VIEW entra_users_daily AS
SELECT * FROM entra_user_snapshots
QUALIFY taken_at = max(taken_at) OVER (PARTITION BY tenant, date);
