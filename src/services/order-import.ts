import type pg from 'pg';
import { inTransaction, type Pool } from '../db/pool.js';
import {
  problemWithCustomer,
  readOrderRecord,
  schemaBreakField,
  SchemaBreakError,
  UNSTORABLE_TEXT,
  type CleanOrder,
  type RecordProblem,
} from '../order-record.js';
import {
  ENSURE_CURSOR,
  LIST_QUARANTINED,
  LOCAL_DAYS,
  LOCK_CURSOR,
  LOCK_CUSTOMERS,
  LOCK_QUARANTINED,
  QUARANTINE_RECORDS,
  READ_CURSOR,
  RECORD_PAGE,
  RESOLVE_QUARANTINED,
  STILL_QUARANTINED,
  UPSERT_ORDERS,
  ZONES_OF_CUSTOMERS,
} from './order-import-sql.js';

/** A position in the source: the (updated_at, id) of a record; pages come in this order. */
export interface ImportPosition {
  updatedAt: string;
  id: number;
}

/** A (customer, local day) whose report changes because an order changed. */
export interface AffectedDay {
  customerId: number;
  day: string;
}

export interface ApplyPageRequest {
  source: string;
  /** The records as the source sent them; each is validated here. */
  records: unknown[];
  /** Where the cursor moves once this page is written; null leaves it (a window re-import). */
  cursorAfter: ImportPosition | null;
  /** Count and list what would change, then roll everything back. */
  dryRun: boolean;
}

export interface OrderWriteCounts {
  inserted: number;
  updated: number;
  /** Valid records not newer than the stored order (a replayed or older page), or superseded in the same page. */
  unchanged: number;
  /** Of the inserted and updated, those cancelled now and not before. */
  cancelled: number;
}

export interface ApplyPageResult extends OrderWriteCounts {
  quarantined: number;
  /** Report days to regenerate: for each order inserted, or changed in what a report counts, its day before and after. */
  affected: AffectedDay[];
  /** The committed cursor after this page (in a dry run: what it would be). */
  cursor: ImportPosition | null;
  cursorAdvanced: boolean;
}

/** The days changed and not regenerated yet, as an import regenerates them (takeAffectedDays). */
export interface PendingDays {
  takenAt: string;
  /** More days are pending after the last one here. */
  more: boolean;
  days: Array<{
    day: string;
    /** Active customers to regenerate (none: only inactive ones changed), or all. */
    customerIds: number[] | 'all';
    /** What was read, to forget once regenerated. */
    taken: number[] | 'all';
    /** The day's changes as read (the latest change's time): one correction per customer and revision. */
    revision: string;
  }>;
}

export interface ImportCursorState extends ImportPosition {
  source: string;
  committedAt: string | null;
  pagesApplied: number;
  ordersWritten: number;
  recordsQuarantined: number;
}

export interface QuarantinedRecord {
  id: number;
  source: string;
  sourceOrderId: string | null;
  reason: string;
  field: string;
  message: string;
  payload: unknown;
  firstSeenAt: string;
  lastSeenAt: string;
  seenCount: number;
  retriedAt: string | null;
}

export interface RetryQuarantinedResult extends OrderWriteCounts {
  /** Quarantined records looked at again. */
  retried: number;
  /** Now valid and imported (or older than the stored order): resolved. */
  resolvedIds: number[];
  stillQuarantined: number;
  affected: AffectedDay[];
}

const RETRY_LIMIT = 1000;

/**
 * Writes the shop's orders into `orders`, one page per transaction: the page's valid orders,
 * its bad records (to quarantine, never failing the page) and the cursor after it commit
 * together, so the cursor is never ahead of the rows it covers and a retried page repeats
 * nothing. Idempotent: orders are keyed by the source's id and newer updated_at wins.
 */
export class OrderImport {
  constructor(private readonly pool: Pool) {}

  async applyPage(request: ApplyPageRequest): Promise<ApplyPageResult> {
    // A changed format is not a page of bad records: fail before touching anything.
    const missing = schemaBreakField(request.records);
    if (missing) throw new SchemaBreakError(missing, request.records.length);
    const cursorAfter = request.cursorAfter && checkedPosition(request.cursorAfter);
    return inTransaction(
      this.pool,
      async (client) => {
        const stored = await lockCursor(client, request.source);
        const { valid, bad } = await readRecords(client, request.records);
        const written = await writeOrders(client, valid);
        await recordAffectedDays(client, request.source, written.affected);
        await quarantine(client, request.source, bad);
        const advance = cursorAfter !== null && (stored === null || isAfter(cursorAfter, stored));
        const cursor = advance ? cursorAfter : stored;
        await client.query(RECORD_PAGE, [
          request.source, cursor?.updatedAt ?? null, cursor?.id ?? null, advance, written.inserted + written.updated, bad.length,
        ]);
        return { ...written, quarantined: bad.length, cursor, cursorAdvanced: advance };
      },
      { rollback: request.dryRun },
    );
  }

  /**
   * The report days changed by imports of `source` and not regenerated yet, in day order, at
   * most `page.maxDays` after `page.afterDay`: per day, the customers to regenerate (the active
   * ones: an inactive customer has no reports, and a report run naming one is refused; at most
   * `maxCustomersPerDay`, else all of that day), what was read (to forget once regenerated), and
   * the moment it was read, which `clearAffectedDays` needs.
   */
  async takeAffectedDays(source: string, maxCustomersPerDay: number, page: { afterDay?: string; maxDays: number }): Promise<PendingDays> {
    // Under the source's cursor lock, which every page holds until it commits: a page still
    // writing is waited for, so every day recorded before `takenAt` is seen here, and a later
    // one is recorded after it (and survives clearAffectedDays).
    return inTransaction(this.pool, async (client) => {
      await lockCursor(client, source);
      const { rows: [clock] } = await client.query<{ taken_at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS taken_at`);
      // `revision`: the latest change recorded for the day. Two imports that take the same
      // changes of a day (a scheduled run beside a manual one) get the same revision, so their
      // corrections are one and the same, sent once.
      const { rows } = await client.query<{ day: string; customer_ids: string[]; active_ids: string[] | null; customers: number; revision: string }>(
        `SELECT to_char(a.report_date, 'YYYY-MM-DD') AS day, count(*)::int AS customers,
                (array_agg(a.customer_id ORDER BY a.customer_id))[1:$2] AS customer_ids,
                array_agg(a.customer_id ORDER BY a.customer_id) FILTER (WHERE c.active) AS active_ids,
                to_char(max(a.recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS revision
           FROM import_affected_days a JOIN customers c ON c.id = a.customer_id
          WHERE a.source = $1 AND ($3::date IS NULL OR a.report_date > $3::date)
          GROUP BY a.report_date ORDER BY a.report_date LIMIT $4 + 1`,
        [source, maxCustomersPerDay, page.afterDay ?? null, page.maxDays],
      );
      return {
        takenAt: clock!.taken_at,
        more: rows.length > page.maxDays,
        days: rows.slice(0, page.maxDays).map((row) => {
          const all = row.customers > maxCustomersPerDay;
          return {
            day: row.day,
            customerIds: all ? 'all' as const : (row.active_ids ?? []).map(Number),
            taken: all ? 'all' as const : row.customer_ids.map(Number),
            revision: `${source}@${row.revision}`,
          };
        }),
      };
    });
  }

  /** Forgets a regenerated day's changes read at `takenAt` (for these customers, or all); later ones stay. */
  async clearAffectedDays(request: { source: string; day: string; customerIds: number[] | 'all'; takenAt: string }): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM import_affected_days
        WHERE source = $1 AND report_date = $2::date AND recorded_at <= $3::timestamptz AND ($4::bigint[] IS NULL OR customer_id = ANY($4::bigint[]))`,
      [request.source, request.day, request.takenAt, request.customerIds === 'all' ? null : request.customerIds],
    );
    return rowCount ?? 0;
  }

  /** The committed cursor of `source`, or null before its first page moved it. */
  async readCursor(source: string): Promise<ImportCursorState | null> {
    const { rows } = await this.pool.query(READ_CURSOR, [source]);
    const row = rows[0];
    if (!row || row.cursor_updated_at === null) return null;
    return {
      source,
      updatedAt: (row.cursor_updated_at as Date).toISOString(),
      id: row.cursor_id,
      committedAt: row.committed_at ? (row.committed_at as Date).toISOString() : null,
      pagesApplied: row.pages_applied,
      ordersWritten: row.orders_written,
      recordsQuarantined: row.records_quarantined,
    };
  }

  /** Open (unresolved) quarantined records of `source`, oldest first; `afterId` pages on. */
  async listQuarantined(request: { source: string; limit: number; afterId?: number }): Promise<QuarantinedRecord[]> {
    const { rows } = await this.pool.query(LIST_QUARANTINED, [request.source, request.limit, request.afterId ?? 0]);
    return rows.map(quarantinedRecord);
  }

  /**
   * Validates open quarantined records again (say, after their customer was added or its
   * currency fixed) and imports those now valid, marking them resolved; the others keep
   * their place with today's reason. One transaction, holding the source's cursor lock, so it
   * never interleaves with a page of the same source. At most 1,000 records per call.
   */
  async retryQuarantined(request: { source: string; ids?: number[] }): Promise<RetryQuarantinedResult> {
    return inTransaction(this.pool, async (client) => {
      await lockCursor(client, request.source);
      const { rows } = await client.query(LOCK_QUARANTINED, [request.source, request.ids ?? null, RETRY_LIMIT]);
      const { valid, bad } = await readRecords(client, rows.map((row) => row.payload));
      const written = await writeOrders(client, valid);
      await recordAffectedDays(client, request.source, written.affected);
      const resolvedIds = valid.map((order) => rows[order.index]!.id as number);
      await client.query(RESOLVE_QUARANTINED, [resolvedIds]);
      const still = bad.map(({ index, problem }) => ({ id: rows[index]!.id, ...problem }));
      await client.query(STILL_QUARANTINED, [JSON.stringify(still)]);
      return { ...written, retried: rows.length, resolvedIds, stillQuarantined: bad.length };
    });
  }
}

interface IndexedOrder extends CleanOrder {
  /** Where the record was in its page (or list), so the caller can tell which one it was. */
  index: number;
}

interface BadRecord {
  index: number;
  record: unknown;
  sourceOrderId: string | null;
  problem: RecordProblem;
}

/** Creates the source's cursor row if needed, then locks it for the rest of the transaction. */
async function lockCursor(client: pg.PoolClient, source: string): Promise<ImportPosition | null> {
  await client.query(ENSURE_CURSOR, [source]);
  const { rows } = await client.query(LOCK_CURSOR, [source]);
  const row = rows[0]!;
  return row.cursor_updated_at === null ? null : { updatedAt: (row.cursor_updated_at as Date).toISOString(), id: row.cursor_id };
}

/** Each record validated by itself, then against its customer (in this transaction). */
async function readRecords(client: pg.PoolClient, records: unknown[]): Promise<{ valid: IndexedOrder[]; bad: BadRecord[] }> {
  const valid: IndexedOrder[] = [];
  const bad: BadRecord[] = [];
  records.forEach((record, index) => {
    const reading = readOrderRecord(record);
    if (reading.ok) valid.push({ ...reading.order, index });
    else bad.push({ index, record, sourceOrderId: reading.sourceOrderId, problem: reading.problem });
  });
  if (valid.length === 0) return { valid, bad };
  const customerIds = [...new Set(valid.map((order) => order.customerId))];
  const { rows } = await client.query<{ id: number; currency: string }>(LOCK_CUSTOMERS, [customerIds]);
  const customers = new Map(rows.map((row) => [row.id, row]));
  const known: IndexedOrder[] = [];
  for (const order of valid) {
    const problem = problemWithCustomer(order, customers.get(order.customerId));
    if (problem) bad.push({ index: order.index, record: records[order.index], sourceOrderId: String(order.id), problem });
    else known.push(order);
  }
  return { valid: known, bad };
}

/** Upserts the orders (newer updated_at wins) and says what changed and which report days it touches. */
/** The days this transaction changed, kept until an import has regenerated them (see takeAffectedDays). */
async function recordAffectedDays(client: pg.PoolClient, source: string, affected: AffectedDay[]): Promise<void> {
  if (affected.length === 0) return;
  await client.query(
    `INSERT INTO import_affected_days (source, customer_id, report_date)
     SELECT $1, customer_id, day FROM unnest($2::bigint[], $3::date[]) AS t(customer_id, day)
     ON CONFLICT (source, report_date, customer_id) DO UPDATE SET recorded_at = clock_timestamp()`,
    [source, affected.map((a) => a.customerId), affected.map((a) => a.day)],
  );
}

async function writeOrders(client: pg.PoolClient, orders: IndexedOrder[]): Promise<OrderWriteCounts & { affected: AffectedDay[] }> {
  // One statement cannot update a row twice: of an order sent twice, the newest version goes in.
  const newest = new Map<number, IndexedOrder>();
  for (const order of orders) {
    const seen = newest.get(order.id);
    if (!seen || Date.parse(order.updatedAt) >= Date.parse(seen.updatedAt)) newest.set(order.id, order);
  }
  const distinct = [...newest.values()];
  if (distinct.length === 0) return { inserted: 0, updated: 0, unchanged: orders.length, cancelled: 0, affected: [] };
  const { rows } = await client.query(UPSERT_ORDERS, [
    distinct.map((o) => o.id), distinct.map((o) => o.customerId), distinct.map((o) => o.currency), distinct.map((o) => o.amountCents),
    distinct.map((o) => o.sku), distinct.map((o) => o.createdAt), distinct.map((o) => o.updatedAt), distinct.map((o) => o.status),
  ]);
  const counts = { inserted: 0, updated: 0, unchanged: orders.length - rows.length, cancelled: 0 };
  // A report counts placed orders: a change matters on the day the order was counted before and the day it is counted now.
  const touched: Array<{ customerId: number; at: Date }> = [];
  for (const row of rows) {
    if (row.inserted) counts.inserted++;
    else counts.updated++;
    if (row.status === 'cancelled' && row.old_status !== 'cancelled') counts.cancelled++;
    if (!row.inserted && !row.report_changed) continue;
    if (!row.inserted && row.old_status === 'placed') touched.push({ customerId: row.old_customer_id, at: row.old_created_at });
    if (row.status === 'placed') touched.push({ customerId: row.customer_id, at: row.created_at });
  }
  return { ...counts, affected: await localDays(client, touched) };
}

/**
 * The customers' local days of the instants, computed by PostgreSQL as the report SQL does.
 * A customer whose time zone PostgreSQL refuses would fail the whole page; its orders count
 * on their UTC day instead, and regenerating that customer then reports the zone as its failure.
 */
async function localDays(client: pg.PoolClient, touched: Array<{ customerId: number; at: Date }>): Promise<AffectedDay[]> {
  if (touched.length === 0) return [];
  const customerIds = touched.map((t) => t.customerId);
  const days = async (zones: string[] | null) =>
    (await client.query<{ customer_id: number; day: string }>(LOCAL_DAYS, [customerIds, touched.map((t) => t.at), zones])).rows.map((row) => ({ customerId: row.customer_id, day: row.day }));
  await client.query('SAVEPOINT local_days');
  try {
    const result = await days(null);
    await client.query('RELEASE SAVEPOINT local_days');
    return result;
  } catch (error) {
    if ((error as { code?: string }).code !== '22023') throw error;
    await client.query('ROLLBACK TO SAVEPOINT local_days');
  }
  const { rows } = await client.query<{ time_zone: string }>(ZONES_OF_CUSTOMERS, [[...new Set(customerIds)]]);
  const working: string[] = [];
  for (const { time_zone: zone } of rows) {
    await client.query('SAVEPOINT zone');
    try {
      await client.query(`SELECT now() AT TIME ZONE $1`, [zone]);
      await client.query('RELEASE SAVEPOINT zone');
      working.push(zone);
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT zone');
    }
  }
  return days(working);
}

async function quarantine(client: pg.PoolClient, source: string, bad: BadRecord[]): Promise<void> {
  if (bad.length === 0) return;
  const rows = bad.map(({ record, sourceOrderId, problem }) => ({
    source_order_id: sourceOrderId === null ? null : storable(sourceOrderId),
    reason: problem.reason,
    field: problem.field,
    message: storable(problem.message),
    payload: storedPayload(record),
  }));
  await client.query(QUARANTINE_RECORDS, [source, JSON.stringify(rows)]);
}

/**
 * The record as jsonb can hold it: jsonb refuses NUL and unpaired surrogates in strings, and a
 * record carrying one must still reach quarantine rather than fail its page. They become U+FFFD.
 */
/** Nesting and size a stored payload may have; deeper or larger ones are kept as an excerpt of their text. */
const MAX_PAYLOAD_DEPTH = 20;
const MAX_PAYLOAD_CHARS = 20_000;

/**
 * The raw record as quarantine keeps it: an object as it came (made storable), anything else
 * (null, a number, a list) and anything too deep or too large as `{ "value": <text excerpt> }`,
 * so no record, however broken, fails its page.
 */
function storedPayload(record: unknown): unknown {
  if (typeof record === 'object' && record !== null && !Array.isArray(record) && depthWithin(record, MAX_PAYLOAD_DEPTH)) {
    const payload = storable(record);
    if (JSON.stringify(payload).length <= MAX_PAYLOAD_CHARS) return payload;
  }
  let text: string;
  try {
    text = JSON.stringify(record) ?? String(record);
  } catch {
    text = '(a value too deeply nested to print)';
  }
  return { value: storable(text.slice(0, MAX_PAYLOAD_CHARS)) };
}

function depthWithin(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (levels === 0) return false;
  return Object.values(value).every((item) => depthWithin(item, levels - 1));
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(new RegExp(UNSTORABLE_TEXT.source, 'gu'), '\uFFFD');
  if (Array.isArray(value)) return value.map(storable);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [storable(key), storable(item)]));
  return value;
}

function checkedPosition(position: ImportPosition): ImportPosition {
  const time = Date.parse(position.updatedAt);
  if (Number.isNaN(time) || !Number.isSafeInteger(position.id)) {
    throw new TypeError(`cursorAfter must be {updatedAt: ISO instant, id: whole number}, not ${JSON.stringify(position)}`);
  }
  return { updatedAt: new Date(time).toISOString(), id: position.id };
}

function isAfter(a: ImportPosition, b: ImportPosition): boolean {
  const [ta, tb] = [Date.parse(a.updatedAt), Date.parse(b.updatedAt)];
  return ta > tb || (ta === tb && a.id > b.id);
}

function quarantinedRecord(row: Record<string, unknown>): QuarantinedRecord {
  return {
    id: row.id as number,
    source: row.source as string,
    sourceOrderId: row.source_order_id as string | null,
    reason: row.reason as string,
    field: row.field as string,
    message: row.message as string,
    payload: row.payload,
    firstSeenAt: (row.first_seen_at as Date).toISOString(),
    lastSeenAt: (row.last_seen_at as Date).toISOString(),
    seenCount: row.seen_count as number,
    retriedAt: row.retried_at ? (row.retried_at as Date).toISOString() : null,
  };
}
