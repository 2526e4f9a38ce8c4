import type pg from 'pg';
import { inTransaction, type Pool } from '../db/pool.js';
import type { ExcludedCustomers } from '../import-orders-contract.js';
import { problemWithCustomer, UNSTORABLE_TEXT } from '../order-record.js';
import {
  CLEAR_DAY,
  CLEAR_DAY_SPARING,
  ENSURE_CURSOR,
  LIST_QUARANTINED,
  LOCK_CURSOR,
  LOCK_QUARANTINED,
  MOVE_LOGGED_DAYS,
  READ_CURSOR,
  RESOLVE_QUARANTINED,
  STILL_QUARANTINED,
  WRITE_PAGE,
  ZONES_OF_CUSTOMERS,
} from './order-import-sql.js';
import { orderColumns, readPage, readRecords, type BadRecord, type ReadPage } from './order-page.js';

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

/** A page already read by readPage (an import reads the next page while this one is written). */
export interface ApplyReadPageRequest extends Omit<ApplyPageRequest, 'records'> {
  page: ReadPage;
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
 * Writes the shop's orders into `orders`, one page per statement (WRITE_PAGE): the page's valid orders,
 * its bad records (to quarantine, never failing the page) and the cursor after it commit
 * together, so the cursor is never ahead of the rows it covers and a retried page repeats
 * nothing. Idempotent: orders are keyed by the source's id and newer updated_at wins.
 */
export class OrderImport {
  constructor(private readonly pool: Pool) {}

  async applyPage(request: ApplyPageRequest): Promise<ApplyPageResult> {
    // A changed format is not a page of bad records: readPage fails before anything is written.
    return this.applyReadPage({ source: request.source, page: readPage(request.records), cursorAfter: request.cursorAfter, dryRun: request.dryRun });
  }

  async applyReadPage(request: ApplyReadPageRequest): Promise<ApplyPageResult> {
    const cursorAfter = request.cursorAfter && checkedPosition(request.cursorAfter);
    const write = (db: Queryable, zones: string[] | null, customers: CustomerCheck) => writePage(db, request.source, request.page, { zones, customers, cursorAfter });
    // A page is one statement, atomic by itself; a dry run makes it in a transaction it rolls back
    // (where a failed statement would end the transaction: customers checked from the start).
    return this.withWorkingZones(request.page.orders.map((order) => order.customerId), (zones) =>
      request.dryRun ? inTransaction(this.pool, (client) => write(client, zones, 'check'), { rollback: true }) : write(this.pool, zones, 'trust'),
    );
  }

  /**
   * Runs `write` trusting every customer's time zone, which is one statement a page. Should
   * PostgreSQL refuse one of them (a zone its tzdata lacks), the statement fails as a whole
   * (22023) and `write` runs again with the zones that work: the others' orders then count
   * on their UTC day, and regenerating those customers reports the zone as their failure.
   */
  private async withWorkingZones<T>(customerIds: number[] | 'all', write: (zones: string[] | null) => Promise<T>): Promise<T> {
    try {
      return await write(null);
    } catch (error) {
      if ((error as { code?: string }).code !== INVALID_PARAMETER_VALUE) throw error;
    }
    return write(await this.workingZones(customerIds === 'all' ? null : [...new Set(customerIds)]));
  }

  /** Of these customers' zones (null: every customer's), those PostgreSQL accepts. */
  private async workingZones(customerIds: number[] | null): Promise<string[]> {
    const { rows } = await this.pool.query<{ time_zone: string }>(ZONES_OF_CUSTOMERS, [customerIds]);
    const working: string[] = [];
    for (const { time_zone: zone } of rows) {
      const works = await this.pool.query('SELECT now() AT TIME ZONE $1', [zone]).then(() => true, () => false);
      if (works) working.push(zone);
    }
    return working;
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
      // What is still logged: the pages since moveLoggedDays last ran (the caller moves a long log first).
      while ((await moveLogged(client, source)) === MOVE_PAGES_PER_STATEMENT);
      // The moment of this read (kept on the cursor row too): clearAffectedDays forgets what was recorded before it.
      const { rows: [clock] } = await client.query<{ taken_at: string }>(
        `UPDATE import_cursors SET last_taken_at = clock_timestamp() WHERE source = $1
         RETURNING to_char(last_taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS taken_at`,
        [source],
      );
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
            revision: revisionFor(source, row.revision),
          };
        }),
      };
    });
  }

  /**
   * Moves up to MOVE_PAGES_PER_STATEMENT of the source's logged pages (WRITE_PAGE logs each
   * page's changed days as one row) into import_affected_days, oldest first, in one statement;
   * returns how many it moved (fewer: the log is empty now). A long log (imports without
   * regeneration) is moved this way, a bounded statement at a time, before takeAffectedDays,
   * whose own transaction then moves only what came since.
   */
  async moveLoggedDays(source: string): Promise<number> {
    return moveLogged(this.pool, source);
  }

  /** Forgets a regenerated day's changes read at `takenAt` (for these customers, or all); later ones stay. */
  async clearAffectedDays(request: { source: string; day: string; customerIds: number[] | 'all'; takenAt: string }): Promise<number> {
    const { rowCount } = await this.pool.query(CLEAR_DAY, readDay(request));
    return rowCount ?? 0;
  }

  /**
   * As clearAffectedDays, but the changes of `spared` (customers whose regeneration failed)
   * stay pending, restamped with the day's `revision`: the next read of the day then names the
   * same revision (unless newer changes came), whose pending corrections are theirs. Left with
   * their own, earlier stamps, the next read would name an earlier revision, and the pending
   * correction of this one would never be sent or superseded.
   */
  async clearAffectedDaysSparing(request: { source: string; day: string; customerIds: number[] | 'all'; takenAt: string; revision: string; spared: ExcludedCustomers }): Promise<number> {
    const { spared } = request;
    const { rowCount } = await this.pool.query(CLEAR_DAY_SPARING, [
      ...readDay(request),
      spared.customerIds, spared.ranges.map((range) => range.firstId), spared.ranges.map((range) => range.lastId),
      revisionInstant(request.source, request.revision),
    ]);
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
    // Its records' customers are known only once read: should a zone fail, every zone is tried.
    return this.withWorkingZones('all', (zones) =>
      inTransaction(this.pool, async (client) => {
        await lockCursor(client, request.source);
        const { rows } = await client.query(LOCK_QUARANTINED, [request.source, request.ids ?? null, RETRY_LIMIT]);
        // Record by record, as when they came: a handful lacking one field is no schema break here.
        const page = readRecords(rows.map((row) => row.payload));
        // Its bad records are in quarantine already: they stay there (below), never added again.
        const written = await writeOrders(client, request.source, { ...page, bad: [] }, zones, { customers: 'check', recordPage: false, allOrNothing: false, cursorAfter: null });
        // Refused now by their customer or by themselves: still quarantined, with today's reason.
        const stillBad = [...page.bad, ...written.rejected];
        const refused = new Set(stillBad.map((bad) => bad.index));
        const resolvedIds = page.orders.filter((order) => !refused.has(order.index)).map((order) => rows[order.index]!.id as number);
        await client.query(RESOLVE_QUARANTINED, [resolvedIds]);
        const still = stillBad.map(({ index, problem }) => ({ id: rows[index]!.id, ...problem }));
        await client.query(STILL_QUARANTINED, [JSON.stringify(still)]);
        return { ...written.counts, affected: written.affected, retried: rows.length, resolvedIds, stillQuarantined: stillBad.length };
      }),
    );
  }
}

/** The parameters of a day's changes a read took ($1-$4 of CLEAR_DAY). */
function readDay(request: { source: string; day: string; customerIds: number[] | 'all'; takenAt: string }): unknown[] {
  return [request.source, request.day, request.takenAt, request.customerIds === 'all' ? null : request.customerIds];
}

/** Logged pages one MOVE_LOGGED_DAYS moves: at most ~2,000 (customer, day) pairs a page, so a statement of ~1 s at worst. */
const MOVE_PAGES_PER_STATEMENT = 100;

async function moveLogged(db: Queryable, source: string): Promise<number> {
  const { rows: [row] } = await db.query<{ pages: number }>(MOVE_LOGGED_DAYS, [source, MOVE_PAGES_PER_STATEMENT]);
  return row!.pages;
}

/** A day's revision: its source and the latest change read (takeAffectedDays); revisionInstant reads it back. */
function revisionFor(source: string, latestChange: string): string {
  return `${source}@${latestChange}`;
}

/** The instant a revision names (revisionFor). */
function revisionInstant(source: string, revision: string): string {
  const instant = revision.startsWith(`${source}@`) ? revision.slice(source.length + 1) : '';
  if (Number.isNaN(Date.parse(instant))) throw new TypeError(`revision ${JSON.stringify(revision)} is not one of source ${source}'s (<source>@<ISO instant>)`);
  return instant;
}

/** PostgreSQL's code for a value it refuses, such as an unknown time zone. */
const INVALID_PARAMETER_VALUE = '22023';
const FOREIGN_KEY_VIOLATION = '23503';

/** Whether a page's statement checks each order's customer, or leaves it to the foreign key (see WRITE_PAGE). */
type CustomerCheck = 'check' | 'trust';

/** Creates the source's cursor row if needed, then locks it for the rest of the transaction. */
async function lockCursor(client: pg.PoolClient, source: string): Promise<ImportPosition | null> {
  let { rows } = await client.query(LOCK_CURSOR, [source]);
  if (rows.length === 0) {
    await client.query(ENSURE_CURSOR, [source]);
    ({ rows } = await client.query(LOCK_CURSOR, [source]));
  }
  const row = rows[0]!;
  return row.cursor_updated_at === null ? null : { updatedAt: (row.cursor_updated_at as Date).toISOString(), id: row.cursor_id };
}

/** A pool (each statement its own transaction) or a client in a transaction. */
type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * A page written by WRITE_PAGE, one statement: orders upserted, bad records quarantined, the
 * changed days recorded and the cursor row moved. Should a customer refuse some orders, the
 * statement writes nothing and names them: they join the page's bad records and the page is
 * written again (each refused order at most once, so this ends).
 */
async function writePage(
  db: Queryable,
  source: string,
  page: ReadPage,
  options: { zones: string[] | null; customers: CustomerCheck; cursorAfter: ImportPosition | null },
): Promise<ApplyPageResult> {
  const { zones, cursorAfter } = options;
  let read = page;
  let customers = options.customers;
  let ensured = false;
  for (;;) {
    let written: WriteResult;
    try {
      written = await writeOrders(db, source, read, zones, { customers, recordPage: true, allOrNothing: true, cursorAfter });
    } catch (error) {
      // An order whose customer is unknown or in another currency broke the foreign key: the
      // statement wrote nothing; checked, it names the orders at fault.
      if (customers === 'check' || (error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      customers = 'check';
      continue;
    }
    if (written.wrote) {
      const cursor = written.advanced ? cursorAfter : written.stored;
      return { ...written.counts, affected: written.affected, quarantined: read.bad.length, cursor, cursorAdvanced: written.advanced };
    }
    if (written.cursorRows === 0 && !ensured) {
      // The source's first page (or its row was removed): create the row; the next try locks it.
      await db.query(ENSURE_CURSOR, [source]);
      ensured = true;
    } else if (written.rejected.length > 0) {
      const refused = new Set(written.rejected.map((bad) => bad.index));
      read = { records: read.records, orders: read.orders.filter((order) => !refused.has(order.index)), bad: [...read.bad, ...written.rejected] };
    } else {
      throw new Error(`the import cursor row of source ${source} could not be locked`);
    }
  }
}

interface WriteResult {
  /** Whether the source's cursor row was there to lock (nothing is written without it). */
  cursorRows: number;
  /** False when nothing was written: no cursor row, or (all or nothing) a refused order. */
  wrote: boolean;
  advanced: boolean;
  /** The cursor as it was before this statement. */
  stored: ImportPosition | null;
  counts: OrderWriteCounts;
  affected: AffectedDay[];
  /** Orders whose customer refused them (unknown, or in another currency). */
  rejected: BadRecord[];
}

async function writeOrders(
  db: Queryable,
  source: string,
  read: ReadPage,
  zones: string[] | null,
  options: { customers: CustomerCheck; recordPage: boolean; allOrNothing: boolean; cursorAfter: ImportPosition | null },
): Promise<WriteResult> {
  const { rows: [row] } = await db.query({
    // Prepared once per connection: the statement is long, and planning it anew cost ~1 ms a page.
    name: `import-write-page-${options.customers}`,
    text: WRITE_PAGE[options.customers],
    values: [
      source, ...orderColumns(read.orders), zones, quarantineRows(read.bad),
      options.cursorAfter?.updatedAt ?? null, options.cursorAfter?.id ?? null, options.recordPage, options.allOrNothing,
    ],
  });
  const rejected: BadRecord[] = ((row.rejected_positions ?? []) as number[]).map((position, i) => {
    const order = read.orders[position - 1]!;
    const currency = (row.rejected_currencies as Array<string | null>)[i];
    return { index: order.index, record: read.records[order.index], sourceOrderId: String(order.id), problem: problemWithCustomer(order, currency == null ? undefined : { currency })! };
  });
  const written = row.inserted + row.updated;
  // bigint[] comes back as strings (only plain bigint columns are parsed as numbers: src/db/pool.ts).
  const customers = ((row.affected_customers ?? []) as string[]).map(Number);
  const days = (row.affected_days ?? []) as string[];
  return {
    cursorRows: row.cursor_rows,
    wrote: row.wrote,
    advanced: row.advanced === true,
    stored: row.stored_updated_at === null ? null : { updatedAt: (row.stored_updated_at as Date).toISOString(), id: row.stored_id },
    counts: { inserted: row.inserted, updated: row.updated, unchanged: row.matching - written, cancelled: row.cancelled },
    affected: customers.map((customerId, i) => ({ customerId, day: days[i]! })),
    rejected,
  };
}

/** The bad records as WRITE_PAGE quarantines them ($11). */
function quarantineRows(bad: BadRecord[]): string {
  return JSON.stringify(bad.map(({ record, sourceOrderId, problem }) => ({
    source_order_id: sourceOrderId === null ? null : storable(sourceOrderId),
    reason: problem.reason,
    field: problem.field,
    message: storable(problem.message),
    payload: storedPayload(record),
  })));
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
