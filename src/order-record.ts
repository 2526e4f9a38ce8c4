/**
 * One order as the shop's API sends it, checked field by field: either a clean order ready for
 * `orders`, or the problem that sends it to quarantine. Sandbox-safe (no Node built-ins), so a
 * workflow may name SchemaBreakError.
 *
 * The record: {"id": 123, "customer_id": 42, "currency": "USD", "amount": "19.99",
 * "sku": "SKU-001", "created_at": "<ISO instant>", "updated_at": "<ISO instant, ms>",
 * "status": "placed" | "cancelled"}. Fields the importer does not know are ignored, so the
 * source may add some without breaking the import.
 */
import { z } from 'zod';
import { isSupportedDay } from './dates.js';

export const ORDER_STATUSES = ['placed', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Every field a record must have, in the order problems are looked for. */
export const REQUIRED_ORDER_FIELDS = ['id', 'customer_id', 'currency', 'amount', 'sku', 'created_at', 'updated_at', 'status'] as const;
export type OrderField = (typeof REQUIRED_ORDER_FIELDS)[number];

export interface CleanOrder {
  id: number;
  customerId: number;
  currency: string;
  /** The amount in cents, exactly: "19.99" is 1999, never 1998.9999. */
  amountCents: number;
  sku: string;
  /** Instants as ISO strings in UTC with milliseconds (what PostgreSQL and JSON both read as they are). */
  createdAt: string;
  updatedAt: string;
  status: OrderStatus;
}

export type ProblemReason =
  | 'not-an-object'
  | 'missing'
  | 'malformed'
  | 'negative-amount'
  | 'unknown-status'
  | 'in-the-future'
  | 'unknown-customer'
  | 'wrong-currency';

export interface RecordProblem {
  /** The record's field at fault (`record` when it is not an object at all). */
  field: string;
  reason: ProblemReason;
  /** A sentence naming the field and the rule, for people reading the quarantine. */
  message: string;
}

export type RecordReading =
  | { ok: true; order: CleanOrder }
  | { ok: false; problem: RecordProblem; /** The record's id as sent, if it sent a usable one. */ sourceOrderId: string | null };

/** A required field is missing from every record of a page: the source's schema changed. No retry fixes it. */
export class SchemaBreakError extends Error {
  override name = 'SchemaBreakError';
  constructor(readonly field: string, readonly records: number) {
    super(
      `schema break: all ${records} records of the page lack the required field ${field}, so the source's order format has changed; ` +
        'nothing of the page was written. Fix the source (or teach src/order-record.ts the new format), then run the import again',
    );
  }
}

const MAX_CENTS = BigInt(Number.MAX_SAFE_INTEGER);
const CURRENCY = /^[A-Z]{3}$/;
const MAX_SKU_LENGTH = 200;
const AMOUNT = /^(\d{1,16})(?:\.(\d{1,2}))?$/;
// A zone is required: an instant without one means a different moment in every zone.
const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

// NUL and lone surrogates (\p{Cs} under the u flag matches only unpaired ones) cannot be stored in a PostgreSQL text column.
export const UNSTORABLE_TEXT = /[\u0000\p{Cs}]/u;

const instantRule = 'must be an ISO 8601 instant with a zone and at most milliseconds, e.g. 2026-11-05T10:15:00.000Z';

/** An instant as read: its time, and its text in UTC with milliseconds. */
interface Instant { time: number; iso: string }

/** One Date.parse per instant, and none of Date's formatting when the text is already UTC with milliseconds (as the shop sends it). */
function readInstant(value: string): Instant | null {
  const parts = INSTANT.exec(value);
  if (!parts || !isSupportedDay(parts[1]!)) return null;
  if (!(Number(parts[2]) < 24 && Number(parts[3]) < 60 && Number(parts[4]) < 60)) return null;
  const time = Date.parse(value);
  if (Number.isNaN(time)) return null;
  const canonical = value.length === 24 && value.endsWith('Z'); // the pattern then leaves only YYYY-MM-DDTHH:MM:SS.sssZ
  return { time, iso: canonical ? value : new Date(time).toISOString() };
}

const instant = z.string().transform((value, ctx) => readInstant(value) ?? (ctx.addIssue({ code: 'custom', message: instantRule }), z.NEVER));

/** An amount as exact cents, or null beyond what a number holds exactly. */
function readCents(value: string): number | null {
  const parts = AMOUNT.exec(value);
  if (!parts) return null;
  const fraction = Number((parts[2] ?? '').padEnd(2, '0'));
  // 13 digits of units are at most 10^15 cents, well inside 2^53: no BigInt needed.
  if (parts[1]!.length <= 13) return Number(parts[1]) * 100 + fraction;
  const cents = toCents(parts);
  return cents <= MAX_CENTS ? Number(cents) : null;
}

/**
 * How far ahead of our clock a source's instant may be (clocks differ a little). Beyond it the
 * record is quarantined: an updated_at in 2099 would be the last record of every page, carry
 * the cursor there and silently end every later import.
 */
export const MAX_SOURCE_CLOCK_AHEAD_MS = 60 * 60_000;

/** Fewer records than this, all lacking a field, are bad records (quarantined), not a changed format. */
export const MIN_RECORDS_FOR_SCHEMA_BREAK = 5;

const recordSchema = z.object({
  id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  customer_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(CURRENCY),
  amount: z.string().transform((value, ctx) => readCents(value) ?? (ctx.addIssue({ code: 'custom', message: RULES.amount }), z.NEVER)),
  sku: z.string().min(1).max(MAX_SKU_LENGTH).refine((value) => !UNSTORABLE_TEXT.test(value)),
  created_at: instant,
  updated_at: instant,
  status: z.enum(ORDER_STATUSES),
});

const RULES: Record<OrderField, string> = {
  id: 'must be a positive whole number (the shop\'s order id)',
  customer_id: 'must be a positive whole number (a customer id)',
  currency: 'must be a three-letter currency code such as USD',
  amount: 'must be a decimal string in major units with at most 2 decimals, e.g. "19.99"',
  sku: 'must be a non-empty string of at most 200 characters',
  created_at: instantRule,
  updated_at: instantRule,
  status: `must be one of ${ORDER_STATUSES.join(', ')}`,
};

/** Checks what a record says by itself. Whether its customer exists is `problemWithCustomer`'s question. */
export function readOrderRecord(record: unknown, now: Date = new Date()): RecordReading {
  if (!isObject(record)) {
    return { ok: false, sourceOrderId: null, problem: { field: 'record', reason: 'not-an-object', message: 'record must be a JSON object with the fields of an order' } };
  }
  const read = readWellFormed(record) ?? readBySchema(record);
  if ('problem' in read) return { ok: false, sourceOrderId: usableId(record.id), problem: read.problem };
  const latest = now.getTime() + MAX_SOURCE_CLOCK_AHEAD_MS;
  for (const [field, time] of [['created_at', read.createdTime], ['updated_at', read.updatedTime]] as const) {
    if (time > latest) {
      const message = `${field} ${describe(record[field])} is in the future (more than an hour ahead of our clock); the source's clock or data is wrong`;
      return { ok: false, sourceOrderId: usableId(record.id), problem: { field, reason: 'in-the-future', message } };
    }
  }
  return { ok: true, order: read.order };
}

/** A record's fields read, with its instants' times (for the clock check). */
interface WellFormed { order: CleanOrder; createdTime: number; updatedTime: number }

/**
 * The common case, without zod: a record whose every field is well formed, read in one pass
 * with no intermediate objects (an import reads 500 a page, and this is most of the worker's
 * time per page). Whatever it does not take goes to readBySchema, which names the field at
 * fault and the rule. It never takes what the schema refuses, and reads what both take alike
 * (test/pure/order-record.test.ts holds the two side by side).
 */
function readWellFormed(record: Record<string, unknown>): WellFormed | null {
  const { id, customer_id: customerId, currency, amount, sku, created_at: createdAt, updated_at: updatedAt, status } = record;
  if (!isRecordId(id) || !isRecordId(customerId)) return null;
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) return null;
  if (typeof sku !== 'string' || sku.length === 0 || sku.length > MAX_SKU_LENGTH || UNSTORABLE_TEXT.test(sku)) return null;
  if (status !== 'placed' && status !== 'cancelled') return null;
  const amountCents = typeof amount === 'string' ? readCents(amount) : null;
  const created = typeof createdAt === 'string' ? readInstant(createdAt) : null;
  const updated = typeof updatedAt === 'string' ? readInstant(updatedAt) : null;
  if (amountCents === null || created === null || updated === null) return null;
  return {
    order: { id, customerId, currency, amountCents, sku, createdAt: created.iso, updatedAt: updated.iso, status },
    createdTime: created.time,
    updatedTime: updated.time,
  };
}

/** The two readers, for the test that holds them side by side; the importer calls readOrderRecord. */
export const recordReaders = { readWellFormed, readBySchema: (record: Record<string, unknown>) => readBySchema(record) };

const isRecordId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/** The record checked field by field by recordSchema: what it reads, or the first field at fault and why. */
function readBySchema(record: Record<string, unknown>): WellFormed | { problem: RecordProblem } {
  const missing = REQUIRED_ORDER_FIELDS.find((field) => isMissing(record[field]));
  if (missing) return { problem: { field: missing, reason: 'missing', message: `${missing} is missing; it ${RULES[missing]}` } };
  const parsed = recordSchema.safeParse(record);
  if (!parsed.success) {
    const fields = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
    const field = REQUIRED_ORDER_FIELDS.find((name) => fields.has(name))!;
    return { problem: problemWith(field, record[field]) };
  }
  const data = parsed.data;
  return {
    order: {
      id: data.id,
      customerId: data.customer_id,
      currency: data.currency,
      amountCents: data.amount,
      sku: data.sku,
      createdAt: data.created_at.iso,
      updatedAt: data.updated_at.iso,
      status: data.status,
    },
    createdTime: data.created_at.time,
    updatedTime: data.updated_at.time,
  };
}

/** The checks that need the database: the customer exists and the order is in its currency. */
export function problemWithCustomer(order: CleanOrder, customer: { currency: string } | undefined): RecordProblem | null {
  if (!customer) {
    return { field: 'customer_id', reason: 'unknown-customer', message: `customer_id ${order.customerId} is not a known customer; add the customer, then retry the quarantined record` };
  }
  if (customer.currency !== order.currency) {
    return {
      field: 'currency',
      reason: 'wrong-currency',
      message: `currency ${order.currency} is not customer ${order.customerId}'s currency (${customer.currency}); an order is always in its customer's currency`,
    };
  }
  return null;
}

/**
 * The required field that every record of a non-empty page lacks, if there is one: then it is
 * not one bad record but a changed format, and quarantining the whole page would hide that.
 */
export function schemaBreakField(records: unknown[]): OrderField | null {
  // One or two records without a field (often the only news of a quiet 15 minutes) are bad
  // records: quarantined, so the next order behind them is not held up for good.
  if (records.length < MIN_RECORDS_FOR_SCHEMA_BREAK) return null;
  return REQUIRED_ORDER_FIELDS.find((field) => records.every((record) => !isObject(record) || isMissing(record[field]))) ?? null;
}

function problemWith(field: OrderField, value: unknown): RecordProblem {
  if (field === 'amount' && typeof value === 'string' && /^-\d/.test(value)) {
    return { field, reason: 'negative-amount', message: `amount ${JSON.stringify(value)} is negative; an order's amount must be 0 or more` };
  }
  if (field === 'status' && typeof value === 'string') {
    return { field, reason: 'unknown-status', message: `status ${JSON.stringify(value).slice(0, 60)} is not known; it ${RULES.status}` };
  }
  return { field, reason: 'malformed', message: `${field} ${describe(value)} is malformed; it ${RULES[field]}` };
}

function toCents(parts: RegExpExecArray): bigint {
  return BigInt(parts[1]!) * 100n + BigInt((parts[2] ?? '').padEnd(2, '0'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null;
}

function usableId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 0) return value.slice(0, 100);
  return null;
}

function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = '(a value too deeply nested to print)';
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
