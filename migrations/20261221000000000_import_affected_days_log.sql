-- Up Migration
-- A page's changed report days, appended as one row (two parallel arrays) in the page's own
-- statement, instead of one upserted row per (customer, day). A bulk import re-touches most
-- of its days on every page, and upserting them cost a lookup, a row lock and WAL records per
-- day: about a fifth of a page's database time (BENCHMARKS.md, import). takeAffectedDays moves
-- the log into import_affected_days under the source's cursor lock before it reads, so the
-- days are still recorded with the rows that changed them, and a day changed after a read is
-- in the log, untouched by that read's clearAffectedDays, until the next read moves it.
CREATE TABLE import_affected_days_log (
  id bigserial PRIMARY KEY,
  source text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  customer_ids bigint[] NOT NULL,
  report_dates date[] NOT NULL,
  CHECK (cardinality(customer_ids) = cardinality(report_dates))
);

-- Down Migration
-- Pending days still in the log are moved to import_affected_days first, so none is lost; the
-- lock keeps a page of a worker still running this release from logging one in between.
LOCK TABLE import_affected_days_log IN EXCLUSIVE MODE;
INSERT INTO import_affected_days (source, customer_id, report_date, recorded_at)
SELECT l.source, u.customer_id, u.report_date, max(l.recorded_at)
  FROM import_affected_days_log l, unnest(l.customer_ids, l.report_dates) AS u(customer_id, report_date)
 GROUP BY 1, 2, 3
ON CONFLICT (source, report_date, customer_id) DO UPDATE SET recorded_at = GREATEST(import_affected_days.recorded_at, EXCLUDED.recorded_at);
DROP TABLE import_affected_days_log;
