-- Up Migration
-- A claim belongs to one activity attempt, not to a run: claim_token names the attempt and
-- lease_until says until when nobody else may take the report over. An attempt sends only
-- what its token still holds, and renews its lease in one statement per chunk (and mid-chunk
-- when needed); a lapsed or released claim (token NULL) may be taken by anyone.
ALTER TABLE report_emails ADD COLUMN claim_token text, ADD COLUMN lease_until timestamptz;

-- Claims from before leases (run-scoped, renewed by the run's retries, taken over after 15
-- minutes) keep their old protection: leased until 15 minutes after they were claimed.
UPDATE report_emails SET claim_token = 'legacy:' || coalesce(run_id, ''), lease_until = sent_at + interval '15 minutes'
 WHERE state = 'sending';

-- A claim inserted by a worker of the previous release (a rolling deploy: it names neither
-- column) gets the protection that release gave it, 15 minutes, instead of NULLs that this
-- release reads as released and would take over at once while the old worker sends. New code
-- always names both columns. Set after the UPDATE above, so existing rows keep theirs.
ALTER TABLE report_emails ALTER COLUMN claim_token SET DEFAULT 'legacy',
                          ALTER COLUMN lease_until SET DEFAULT now() + interval '15 minutes';

-- Renewal and release by attempt, and rerun-failed's count of a run's live claims: all touch only claims.
CREATE INDEX report_emails_claim_token ON report_emails (claim_token) WHERE state = 'sending';
CREATE INDEX report_emails_sending_run ON report_emails (run_id) WHERE state = 'sending';

-- Down Migration
DROP INDEX report_emails_sending_run;
DROP INDEX report_emails_claim_token;
ALTER TABLE report_emails DROP COLUMN lease_until, DROP COLUMN claim_token;
