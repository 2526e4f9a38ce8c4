-- Up Migration
-- The report days an import changed and has not regenerated yet, per source. Written in the
-- same transaction as the page that changed them, so a crash, a retry or a re-read page never
-- loses one: the import (this run, or the next if this one died) regenerates what is here,
-- then deletes what it regenerated. `recorded_at` moves when a day is changed again, so a
-- change made while the day was being regenerated is not deleted with it.
CREATE TABLE import_affected_days (
  source text NOT NULL,
  customer_id bigint NOT NULL REFERENCES customers (id),
  report_date date NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (source, report_date, customer_id)
);

-- Down Migration
DROP TABLE import_affected_days;
