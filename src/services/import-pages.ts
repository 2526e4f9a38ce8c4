import type { ResolvedImportInput } from '../import-orders-contract.js';
import { readOrderRecord } from '../order-record.js';
import type { ImportPosition } from './order-import.js';

/** What of a page fetched from the source an import writes, and where its cursor moves. */
export interface PageSelection {
  /** The records to write (validated one by one by OrderImport.applyPage). */
  records: unknown[];
  /** A window's records of customers it does not name: read and left alone. */
  skipped: number;
  /** The page reaches past the window's end: the window is done. */
  beyondWindow: boolean;
  /** Where the committed cursor moves (null: a window, which leaves it; or no usable record). */
  cursorAfter: ImportPosition | null;
}

/**
 * The import's rules for one page: a window stops at its end (a record past it, and all after
 * it, is left for later) and writes only the customers it names; an incremental run moves the
 * cursor to the page's last record that reads as an order. A bad record never places it (an
 * updated_at in 2099 would end every later import); a page of bad records leaves it where it
 * was, and the next run reads them again.
 */
export function selectPage(records: unknown[], window: ResolvedImportInput['window']): PageSelection {
  const until = window ? Date.parse(window.until) : Infinity;
  const inWindow = records.filter((record) => !(updatedAtOf(record) > until));
  const customers = window?.customerIds ? new Set(window.customerIds) : null;
  const mine = customers ? inWindow.filter((record) => customers.has(customerIdOf(record))) : inWindow;
  return { records: mine, skipped: inWindow.length - mine.length, beyondWindow: inWindow.length < records.length, cursorAfter: window ? null : lastPosition(records) };
}

/**
 * Where an import starts reading when it has no API cursor yet: a window at its start; an
 * incremental run `overlapMs` before the committed cursor, for changes a source commits late
 * with an older updated_at (re-read orders change nothing); from the start without one.
 */
export function startingInstant(window: ResolvedImportInput['window'], committed: ImportPosition | null, overlapMs: number): string | undefined {
  if (window) return window.since;
  if (!committed) return undefined;
  return new Date(Date.parse(committed.updatedAt) - overlapMs).toISOString();
}

const updatedAtOf = (record: unknown) => Date.parse(String((record as { updated_at?: unknown })?.updated_at));
const customerIdOf = (record: unknown) => Number((record as { customer_id?: unknown })?.customer_id);

function lastPosition(records: unknown[]): ImportPosition | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const reading = readOrderRecord(records[i]);
    if (reading.ok) return { updatedAt: reading.order.updatedAt, id: reading.order.id };
  }
  return null;
}
