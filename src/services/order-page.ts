import { readOrderRecord, schemaBreakField, SchemaBreakError, type CleanOrder, type RecordProblem } from '../order-record.js';

/** An order of a page, with where it was in the page (or list), so a refusal can name its record. */
export interface IndexedOrder extends CleanOrder {
  index: number;
}

/** A record refused before or by the database, on its way to quarantine with its raw payload. */
export interface BadRecord {
  index: number;
  record: unknown;
  sourceOrderId: string | null;
  problem: RecordProblem;
}

/** A page read record by record, ready for OrderImport.applyReadPage: pure, no database. */
export interface ReadPage {
  records: unknown[];
  /** Orders valid by themselves (their customers are checked by the write). */
  orders: IndexedOrder[];
  bad: BadRecord[];
}

/**
 * Validates a page's records one by one. Pure, so an import reads the next page while the
 * database writes this one. A page whose records all lack a required field is a changed
 * format, not a page of bad records: SchemaBreakError, before anything is written.
 */
export function readPage(records: unknown[], now: Date = new Date()): ReadPage {
  const missing = schemaBreakField(records);
  if (missing) throw new SchemaBreakError(missing, records.length);
  return readRecords(records, now);
}

/** Validates records one by one, with no schema-break rule (quarantined ones, retried). */
export function readRecords(records: unknown[], now: Date = new Date()): ReadPage {
  const orders: IndexedOrder[] = [];
  const bad: BadRecord[] = [];
  records.forEach((record, index) => {
    const reading = readOrderRecord(record, now);
    if (reading.ok) orders.push({ ...reading.order, index });
    else bad.push({ index, record, sourceOrderId: reading.sourceOrderId, problem: reading.problem });
  });
  return { records, orders, bad };
}

/** The orders as the write statement's column parameters ($2..$9 of WRITE_PAGE). */
export function orderColumns(orders: CleanOrder[]): unknown[] {
  return [
    orders.map((o) => o.id), orders.map((o) => o.customerId), orders.map((o) => o.currency), orders.map((o) => o.amountCents),
    orders.map((o) => o.sku), orders.map((o) => o.createdAt), orders.map((o) => o.updatedAt), orders.map((o) => o.status),
  ];
}
