-- Up Migration
-- A report row is final when it was generated after its day had ended in the customer's zone;
-- a manual run for a day still going on writes provisional rows, which the nightly run for
-- that customer's zone replaces with final ones. Rows from before this column existed are
-- judged the same way from when they were generated (a zone PostgreSQL does not know
-- cannot have produced rows; those count as final).
ALTER TABLE daily_reports ADD COLUMN final boolean;
UPDATE daily_reports r
   SET final = CASE WHEN z.name IS NULL THEN true
                    ELSE r.generated_at >= ((r.report_date + 1)::timestamp AT TIME ZONE c.time_zone) END
  FROM customers c LEFT JOIN pg_timezone_names z ON z.name = c.time_zone
 WHERE c.id = r.customer_id;
UPDATE daily_reports SET final = true WHERE final IS NULL;
ALTER TABLE daily_reports ALTER COLUMN final SET NOT NULL;

-- Down Migration
ALTER TABLE daily_reports DROP COLUMN final;
