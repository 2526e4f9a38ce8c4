/**
 * The importer's statements, each set-based: a page is one lock and one statement whatever
 * its size, so the import stays close to a bare multi-row upsert.
 */

/** Creates the source's cursor row on first use (when LOCK_CURSOR finds none). */
export const ENSURE_CURSOR = `INSERT INTO import_cursors (source) VALUES ($1) ON CONFLICT (source) DO NOTHING`;

/**
 * Locking the row is what makes two imports of one source take turns, page by page, and what
 * makes takeAffectedDays wait for a page still writing (WRITE_PAGE takes it first, too).
 */
export const LOCK_CURSOR = `
  SELECT cursor_updated_at, cursor_id FROM import_cursors WHERE source = $1 FOR UPDATE`;

export const READ_CURSOR = `
  SELECT source, cursor_updated_at, cursor_id, committed_at, pages_applied, orders_written, records_quarantined
    FROM import_cursors WHERE source = $1`;

/**
 * A page's whole write in one statement: one round trip a page, like a bare upsert, and
 * atomic without a transaction around it (a statement commits or fails as a whole). Every
 * part sees the same snapshot; the data-modifying parts each run once, to completion.
 *
 * $1 source; $2..$9 the page's orders read by readPage, as columns (id, customer_id, currency,
 * amount_cents, sku, created_at, updated_at, status); $10 the time zones known to work, or
 * null for all (OrderImport.withWorkingZones); $11 the records refused by themselves, a jsonb
 * array of {source_order_id, reason, field, message, payload}, to quarantine; $12, $13 the
 * cursor after the page (null: it stays); $14 whether the page counts in the cursor row (a
 * quarantine retry does not); $15 all or nothing: an order whose customer refuses it makes the
 * statement write nothing and name it, so the caller moves it to $11 and writes again.
 *
 * - locked: the source's cursor row, locked first. Every write below depends on it, so the
 *   changed days are stamped after the lock is held: takeAffectedDays, which takes the same
 *   lock, sees a page whole or stamps its own moment before the page's days. Writers of one
 *   source take turns before this statement starts (SourceLock), so its snapshot is current.
 * - matching: checked, the orders whose customer exists in that currency (the foreign key's own
 *   rule); the others are `rejected` (position, the customer's currency or null). Trusted,
 *   every order: the foreign key check then fails the statement (23503) if one breaks it, and
 *   the caller writes the page again, checked. No customer row is locked here: the foreign key
 *   check takes its own, and a customer changed meanwhile fails the statement, whose retry
 *   reads it anew.
 * - known: of an order sent twice in one page (one statement cannot write a row twice), the
 *   newest version, the later one on a tie.
 * - written: the upsert; a row changes only when the incoming updated_at is newer, so a
 *   replayed or older page changes nothing. A row it inserted has no xmax yet (an updated one
 *   carries this transaction's, from the conflict's row lock). `previous` reads the updated
 *   rows as they were before: the statement's snapshot predates its own writes.
 * - touched/days: a report counts placed orders, so a change matters on the day the order was
 *   counted before and the day it is counted now, each in its customer's zone as the report
 *   SQL groups orders; recorded for the import's regeneration as one row of the source's log
 *   (import_affected_days_log), which takeAffectedDays reads under the same lock.
 * - quarantined: keyed by the payload's hash (jsonb's text form: independent of key order and
 *   spacing), so a record seen again is counted, not added; seen again while resolved, it is
 *   open again.
 */
function writePageSql(customers: 'check' | 'trust'): string {
  return `
  WITH locked AS (
    SELECT cursor_updated_at, cursor_id FROM import_cursors WHERE source = $1 FOR UPDATE
  ),
  incoming AS (
    SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[])
      WITH ORDINALITY AS i(id, customer_id, currency, amount_cents, sku, created_at, updated_at, status, position)
  ),
  ${customers === 'check' ? CHECKED_CUSTOMERS : TRUSTED_CUSTOMERS},
  go AS (
    SELECT cursor_updated_at, cursor_id,
           $12::timestamptz IS NOT NULL AND (cursor_updated_at IS NULL OR ($12::timestamptz, $13::bigint) > (cursor_updated_at, cursor_id)) AS advance
      FROM locked WHERE NOT ($15::boolean AND EXISTS (SELECT FROM rejected))
  ),
  known AS (
    SELECT DISTINCT ON (m.id) m.* FROM matching m CROSS JOIN go ORDER BY m.id, m.updated_at DESC, m.position DESC
  ),
  written AS (
    INSERT INTO orders AS o (id, customer_id, currency, amount_cents, sku, created_at, updated_at, status)
    SELECT id, customer_id, currency, amount_cents, sku, created_at, updated_at, status FROM known ORDER BY id
    ON CONFLICT (id) DO UPDATE
       SET customer_id = EXCLUDED.customer_id, currency = EXCLUDED.currency, amount_cents = EXCLUDED.amount_cents,
           sku = EXCLUDED.sku, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, status = EXCLUDED.status
     WHERE o.updated_at < EXCLUDED.updated_at
    RETURNING o.id, o.customer_id, o.amount_cents, o.sku, o.created_at, o.status, o.xmax = 0 AS inserted
  ),
  previous AS (
    SELECT o.id, o.customer_id, o.amount_cents, o.sku, o.created_at, o.status
      FROM written w JOIN orders o ON o.id = w.id
     WHERE NOT w.inserted
  ),
  changes AS (
    SELECT w.customer_id, w.created_at, w.status, w.inserted,
           p.customer_id AS old_customer_id, p.created_at AS old_created_at, p.status AS old_status,
           (p.customer_id, p.amount_cents, p.sku, p.created_at, p.status)
             IS DISTINCT FROM (w.customer_id, w.amount_cents, w.sku, w.created_at, w.status) AS report_changed
      FROM written w LEFT JOIN previous p USING (id)
  ),
  touched AS (
    SELECT customer_id, created_at AS at FROM changes WHERE status = 'placed' AND (inserted OR report_changed)
    UNION ALL
    SELECT old_customer_id, old_created_at FROM changes WHERE NOT inserted AND report_changed AND old_status = 'placed'
  ),
  zoned AS MATERIALIZED (
    -- A lookup per order, never a scan of every customer (as a join may be planned); materialized,
    -- or the lookup is planned twice per order (once for the filter below, once for the zone).
    SELECT t.customer_id, t.at, (SELECT c.time_zone FROM customers c WHERE c.id = t.customer_id) AS time_zone FROM touched t
  ),
  days AS (
    SELECT DISTINCT customer_id,
           (at AT TIME ZONE CASE WHEN $10::text[] IS NULL OR time_zone = ANY($10::text[]) THEN time_zone ELSE 'UTC' END)::date AS report_date
      FROM zoned
     -- An unknown customer (trusted, the foreign key fails the statement at its end) has no day.
     WHERE time_zone IS NOT NULL
  ),
  recorded AS (
    -- One row a page, whatever its days: moved to import_affected_days before they are read
    -- (MOVE_LOGGED_DAYS), once per pair however many pages touched it. Upserting a row per
    -- (customer, day) here cost a lookup, a row lock and WAL records for each day a bulk import
    -- re-touches, page after page (~2.5 ms of a page's ~13 ms); the move does it once.
    INSERT INTO import_affected_days_log (source, customer_ids, report_dates)
    SELECT $1, array_agg(d.customer_id), array_agg(d.report_date) FROM days d CROSS JOIN go HAVING count(*) > 0
  ),
  quarantined AS (
    INSERT INTO import_quarantine AS q (source, source_order_id, reason, field, message, payload, payload_sha256)
    SELECT DISTINCT ON (sha) $1, source_order_id, reason, field, message, payload, sha
      FROM (SELECT r.*, encode(sha256(convert_to(r.payload::text, 'UTF8')), 'hex') AS sha
              FROM jsonb_to_recordset($11::jsonb) AS r(source_order_id text, reason text, field text, message text, payload jsonb)) bad
      CROSS JOIN go
     ORDER BY sha
    ON CONFLICT (source, payload_sha256) DO UPDATE
       SET last_seen_at = now(), seen_count = q.seen_count + 1, resolved_at = NULL,
           reason = EXCLUDED.reason, field = EXCLUDED.field, message = EXCLUDED.message
  ),
  page AS (
    UPDATE import_cursors
       SET cursor_updated_at = CASE WHEN go.advance THEN $12::timestamptz ELSE go.cursor_updated_at END,
           cursor_id = CASE WHEN go.advance THEN $13::bigint ELSE go.cursor_id END,
           committed_at = CASE WHEN go.advance THEN now() ELSE committed_at END,
           pages_applied = pages_applied + 1,
           orders_written = orders_written + (SELECT count(*) FROM changes),
           records_quarantined = records_quarantined + jsonb_array_length($11::jsonb)
      FROM go
     WHERE source = $1 AND $14::boolean
  )
  SELECT (SELECT count(*) FROM locked)::int AS cursor_rows,
         EXISTS (SELECT FROM go) AS wrote,
         (SELECT advance FROM go) AS advanced,
         (SELECT cursor_updated_at FROM locked) AS stored_updated_at,
         (SELECT cursor_id FROM locked) AS stored_id,
         (SELECT count(*) FILTER (WHERE inserted) FROM changes)::int AS inserted,
         (SELECT count(*) FILTER (WHERE NOT inserted) FROM changes)::int AS updated,
         (SELECT count(*) FILTER (WHERE status = 'cancelled' AND old_status IS DISTINCT FROM 'cancelled') FROM changes)::int AS cancelled,
         (SELECT count(*) FROM matching)::int AS matching,
         (SELECT array_agg(position::int ORDER BY position) FROM rejected) AS rejected_positions,
         (SELECT array_agg(customer_currency ORDER BY position) FROM rejected) AS rejected_currencies,
         (SELECT array_agg(customer_id ORDER BY customer_id, report_date) FROM days) AS affected_customers,
         (SELECT array_agg(to_char(report_date, 'YYYY-MM-DD') ORDER BY customer_id, report_date) FROM days) AS affected_days`;
}

const CHECKED_CUSTOMERS = `
  matching AS (
    SELECT i.* FROM incoming i JOIN customers c ON c.id = i.customer_id AND c.currency = i.currency
  ),
  rejected AS (
    SELECT i.position, (SELECT c.currency FROM customers c WHERE c.id = i.customer_id) AS customer_currency
      FROM incoming i WHERE NOT EXISTS (SELECT FROM matching m WHERE m.position = i.position)
  )`;

/** The foreign key checks every order's customer anyway: a page that breaks it fails whole, then goes checked. */
const TRUSTED_CUSTOMERS = `
  matching AS (SELECT * FROM incoming),
  rejected AS (SELECT NULL::bigint AS position, NULL::text AS customer_currency WHERE false)`;

/** The statement of a page: customers trusted (the common case: one lookup fewer a row), or checked. */
export const WRITE_PAGE = { trust: writePageSql('trust'), check: writePageSql('check') } as const;

/**
 * The source's oldest $2 logged pages (one row each, WRITE_PAGE) moved into
 * import_affected_days, one row per (customer, day), stamped with the latest page that changed
 * it. Safe at any moment and in any number of steps: a day moved keeps its page's stamp, so
 * a read's clearAffectedDays (which forgets only what was recorded before that read) treats it
 * as if the page had written it there. Two movers at once split the rows (a row deleted by one
 * is skipped by the other). takeAffectedDays moves the rest under the cursor lock before it reads.
 */
export const MOVE_LOGGED_DAYS = `
  WITH moved AS (
    DELETE FROM import_affected_days_log
     WHERE id IN (SELECT id FROM import_affected_days_log WHERE source = $1 ORDER BY id LIMIT $2)
    RETURNING recorded_at, customer_ids, report_dates
  ),
  days AS (
    SELECT u.customer_id, u.report_date, max(m.recorded_at) AS recorded_at
      FROM moved m, unnest(m.customer_ids, m.report_dates) AS u(customer_id, report_date)
     GROUP BY u.customer_id, u.report_date
  ),
  recorded AS (
    INSERT INTO import_affected_days (source, customer_id, report_date, recorded_at)
    SELECT $1, customer_id, report_date, recorded_at FROM days ORDER BY report_date, customer_id
    ON CONFLICT (source, report_date, customer_id) DO UPDATE SET recorded_at = EXCLUDED.recorded_at
     WHERE import_affected_days.recorded_at < EXCLUDED.recorded_at
  )
  SELECT count(*)::int AS pages FROM moved`;

/** A day's changes a read took: $1 source, $2 day, $3 the read's takenAt, $4 its customers (null: all). */
const READ_DAY = `source = $1 AND report_date = $2::date AND recorded_at <= $3::timestamptz AND ($4::bigint[] IS NULL OR customer_id = ANY($4::bigint[]))`;

/** Customers whose regeneration failed: $5 listed ids, $6 and $7 the first and last ids of failed ranges. */
const SPARED_CUSTOMER = `(customer_id = ANY($5::bigint[]) OR EXISTS (SELECT FROM unnest($6::bigint[], $7::bigint[]) AS r(first_id, last_id) WHERE customer_id BETWEEN r.first_id AND r.last_id))`;

/** Forgets what a read took of a day (clearAffectedDays). */
export const CLEAR_DAY = `DELETE FROM import_affected_days WHERE ${READ_DAY}`;

/**
 * The same, but the spared customers' changes stay, restamped with the day's revision ($8):
 * the next read of the day then names that revision again (clearAffectedDaysSparing). The
 * update and the delete touch disjoint rows.
 */
export const CLEAR_DAY_SPARING = `
  WITH restamped AS (
    UPDATE import_affected_days SET recorded_at = $8::timestamptz WHERE ${READ_DAY} AND ${SPARED_CUSTOMER}
  )
  DELETE FROM import_affected_days WHERE ${READ_DAY} AND NOT ${SPARED_CUSTOMER}`;

/** The distinct time zones of these customers, or of all ($1 null): to find one PostgreSQL refuses. */
export const ZONES_OF_CUSTOMERS = `SELECT DISTINCT time_zone FROM customers WHERE $1::bigint[] IS NULL OR id = ANY($1::bigint[])`;

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
