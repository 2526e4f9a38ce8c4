-- Up Migration
-- Whether a report email is sent depends on its report_emails record, and the retention purge
-- deletes old records. So that a purged record still stops a second send (a regeneration of an
-- old day with email, a backfill), the purge records per customer, in the statement that
-- deletes the records, the latest period_to it deleted: a report of this customer whose period
-- ends on or before that day counts as already sent unless a run explicitly asks to resend.
CREATE TABLE report_email_purges (
  customer_id bigint PRIMARY KEY REFERENCES customers (id),
  purged_through date NOT NULL
);

-- Down Migration
DROP TABLE report_email_purges;
