-- Up Migration
-- Manual runs of one scope and period share a workflow id; the first execution's run id is
-- what tells "an earlier attempt of this run sent it" from "an earlier run sent it".
ALTER TABLE report_emails ADD COLUMN run_id text;

-- Down Migration
ALTER TABLE report_emails DROP COLUMN run_id;
