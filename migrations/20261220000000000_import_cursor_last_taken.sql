-- Up Migration
-- When the source's changed days were last read for regeneration (takeAffectedDays). A page
-- that changes a day already recorded moves its recorded_at only if that day may have been
-- read since (recorded_at <= last_taken_at), so the read's clearAffectedDays keeps it; a day
-- recorded after the last read is still unread, and moving it again would only rewrite the
-- row. A bulk import re-touches most of its days on every page: this spares those rewrites.
ALTER TABLE import_cursors ADD COLUMN last_taken_at timestamptz;

-- Down Migration
ALTER TABLE import_cursors DROP COLUMN last_taken_at;
