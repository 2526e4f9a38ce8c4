-- Up Migration
-- A report row is final when it was generated after its day had ended in the customer's zone;
-- a manual run for a day still going on writes provisional rows, which the nightly run for
-- that customer's zone replaces with final ones. Rows from before this column existed are
-- judged the same way from when they were generated. A day ends at the first instant of the
-- next one: the first of two midnights where the clock is turned back (plain AT TIME ZONE takes
-- the second), the jump where midnight is skipped. A zone PostgreSQL does not know cannot have
-- produced rows; those count as final. Rows the former nightly job (02:00 UTC for everyone)
-- made before the day ended in western zones stay provisional until they are regenerated
-- (npm run schedules -- backfill daily-reports --from … --to …).
ALTER TABLE daily_reports ADD COLUMN final boolean;
CREATE FUNCTION pg_temp.day_start(day date, zone text) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  RETURN least(day::timestamp AT TIME ZONE zone, ((day::timestamp - interval '1 hour') AT TIME ZONE zone) + interval '1 hour');
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN NULL;
END $$;
UPDATE daily_reports r
   SET final = coalesce(r.generated_at >= pg_temp.day_start(r.report_date + 1, c.time_zone), true)
  FROM customers c
 WHERE c.id = r.customer_id;
UPDATE daily_reports SET final = true WHERE final IS NULL;
ALTER TABLE daily_reports ALTER COLUMN final SET NOT NULL;

-- Down Migration
ALTER TABLE daily_reports DROP COLUMN final;
