/**
 * The importer's statements, each set-based: one page is a handful of statements whatever
 * its size, so the import stays close to a bare multi-row upsert.
 */

/** Creates the source's cursor row on first use; the page's transaction then locks it. */
export const ENSURE_CURSOR = `INSERT INTO import_cursors (source) VALUES ($1) ON CONFLICT (source) DO NOTHING`;

/** Locking the row is what makes two imports of one source take turns, page by page. */
export const LOCK_CURSOR = `
  SELECT cursor_updated_at, cursor_id FROM import_cursors WHERE source = $1 FOR UPDATE`;

/** $2 and $3: the cursor after this page (the caller passes the old one when it must not move). */
export const RECORD_PAGE = `
  UPDATE import_cursors
     SET cursor_updated_at = $2, cursor_id = $3,
         committed_at = CASE WHEN $4::boolean THEN now() ELSE committed_at END,
         pages_applied = pages_applied + 1,
         orders_written = orders_written + $5,
         records_quarantined = records_quarantined + $6
   WHERE source = $1`;

export const READ_CURSOR = `
  SELECT source, cursor_updated_at, cursor_id, committed_at, pages_applied, orders_written, records_quarantined
    FROM import_cursors WHERE source = $1`;

/**
 * Customers named by a page, with their currency. KEY SHARE keeps the currency (part of the
 * key orders reference) from changing before the page commits, without blocking regeneration
 * (which takes NO KEY UPDATE).
 */
export const LOCK_CUSTOMERS = `
  SELECT id, currency FROM customers WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE`;

/**
 * The upsert: a row changes only when the incoming updated_at is newer than the stored one,
 * so a replayed or older page changes nothing. `previous` reads the rows as they were before
 * this statement (every part of one statement sees the same snapshot), which tells an insert
 * from an update and says what an update changed for the reports.
 */
export const UPSERT_ORDERS = `
  WITH incoming AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
      AS i(id, customer_id, currency, amount_cents, sku, created_at, updated_at, status)
  ),
  previous AS (
    SELECT o.id, o.customer_id, o.amount_cents, o.sku, o.created_at, o.status
      FROM orders o JOIN incoming USING (id)
  ),
  written AS (
    INSERT INTO orders AS o (id, customer_id, currency, amount_cents, sku, created_at, updated_at, status)
    SELECT id, customer_id, currency, amount_cents, sku, created_at, updated_at, status FROM incoming ORDER BY id
    ON CONFLICT (id) DO UPDATE
       SET customer_id = EXCLUDED.customer_id, currency = EXCLUDED.currency, amount_cents = EXCLUDED.amount_cents,
           sku = EXCLUDED.sku, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, status = EXCLUDED.status
     WHERE o.updated_at < EXCLUDED.updated_at
    RETURNING o.id, o.customer_id, o.amount_cents, o.sku, o.created_at, o.status
  )
  SELECT w.id, w.customer_id, w.created_at, w.status,
         p.id IS NULL AS inserted,
         p.customer_id AS old_customer_id, p.created_at AS old_created_at, p.status AS old_status,
         (p.customer_id, p.amount_cents, p.sku, p.created_at, p.status)
           IS DISTINCT FROM (w.customer_id, w.amount_cents, w.sku, w.created_at, w.status) AS report_changed
    FROM written w LEFT JOIN previous p USING (id)`;

/**
 * The customer's local day of each instant, as the report SQL groups orders. $3: the zones
 * known to work, or null for all (see OrderImport.localDays); any other counts as UTC.
 */
export const LOCAL_DAYS = `
  SELECT DISTINCT x.customer_id, (x.at AT TIME ZONE
           CASE WHEN $3::text[] IS NULL OR c.time_zone = ANY($3::text[]) THEN c.time_zone ELSE 'UTC' END)::date::text AS day
    FROM unnest($1::bigint[], $2::timestamptz[]) AS x(customer_id, at)
    JOIN customers c ON c.id = x.customer_id
   ORDER BY 1, 2`;

export const ZONES_OF_CUSTOMERS = `SELECT DISTINCT time_zone FROM customers WHERE id = ANY($1::bigint[])`;

/**
 * $2: a jsonb array of {source_order_id, reason, field, message, payload}. The key is the
 * payload's hash (jsonb's text form: independent of key order and spacing), so a record seen
 * again is counted, not added; seen again while resolved, it is open again.
 */
export const QUARANTINE_RECORDS = `
  INSERT INTO import_quarantine AS q (source, source_order_id, reason, field, message, payload, payload_sha256)
  SELECT DISTINCT ON (sha) $1, source_order_id, reason, field, message, payload, sha
    FROM (SELECT r.*, encode(sha256(convert_to(r.payload::text, 'UTF8')), 'hex') AS sha
            FROM jsonb_to_recordset($2::jsonb) AS r(source_order_id text, reason text, field text, message text, payload jsonb)) bad
   ORDER BY sha
  ON CONFLICT (source, payload_sha256) DO UPDATE
     SET last_seen_at = now(), seen_count = q.seen_count + 1, resolved_at = NULL,
         reason = EXCLUDED.reason, field = EXCLUDED.field, message = EXCLUDED.message`;

const QUARANTINE_COLUMNS = `
  id, source, source_order_id, reason, field, message, payload, first_seen_at, last_seen_at, seen_count, retried_at, resolved_at`;

/** $2: the most rows; $3: after this id (paging). */
export const LIST_QUARANTINED = `
  SELECT ${QUARANTINE_COLUMNS} FROM import_quarantine
   WHERE source = $1 AND resolved_at IS NULL AND id > $3
   ORDER BY id LIMIT $2`;

/** $2: these ids only, or null for every open record; $3: the most rows. */
export const LOCK_QUARANTINED = `
  SELECT ${QUARANTINE_COLUMNS} FROM import_quarantine
   WHERE source = $1 AND resolved_at IS NULL AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
   -- Never retried first, then the longest ago: 1,000 records still bad do not keep newer ones from ever being retried.
   ORDER BY retried_at NULLS FIRST, id LIMIT $3 FOR UPDATE`;

export const RESOLVE_QUARANTINED = `
  UPDATE import_quarantine SET retried_at = now(), resolved_at = now() WHERE id = ANY($1::bigint[])`;

/** $1: a jsonb array of {id, reason, field, message}: why each is still bad now. */
export const STILL_QUARANTINED = `
  UPDATE import_quarantine q SET retried_at = now(), reason = r.reason, field = r.field, message = r.message
    FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, reason text, field text, message text)
   WHERE q.id = r.id`;
