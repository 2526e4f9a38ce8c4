-- Up Migration
-- Sends are claimed in bulk ('sending') before they go out and marked 'sent' in bulk after,
-- instead of one transaction held open across each send.
ALTER TABLE report_emails ADD COLUMN state text NOT NULL DEFAULT 'sent' CHECK (state IN ('sending', 'sent'));

-- Down Migration
ALTER TABLE report_emails DROP COLUMN state;
