/**
 * The shop's orders in memory, compactly: one typed-array slot per order (ids are 1..count,
 * so an id is its slot + 1), about 36 bytes an order with the index, so a million orders fit
 * in 40 MB. `index` lists the ids in ascending (updated_at, id), the order the API pages in;
 * a page is two binary searches and a slice.
 */

export type OrderStatus = 'placed' | 'cancelled';
const STATUSES: readonly OrderStatus[] = ['placed', 'cancelled'];

/** One order as the API returns it (the contract in README, "The shop API"). */
export interface ApiOrder {
  id: number;
  customer_id: number;
  currency: string;
  amount: string;
  sku: string;
  created_at: string;
  updated_at: string;
  status: OrderStatus;
}

/** A position in the (updated_at, id) order: what a cursor carries. */
export interface OrderPosition {
  updatedAt: number;
  id: number;
}

export interface NewOrder {
  customerId: number;
  currency: string;
  amountCents: number;
  sku: string;
  createdAt: number;
}

export class OrderStore {
  count = 0;
  private capacity: number;
  private customerId: Int32Array;
  private currency: Uint8Array;
  private amountCents: Float64Array;
  private sku: Uint16Array;
  private createdAt: Float64Array;
  private updatedAt: Float64Array;
  private status: Uint8Array;
  /** Ids in ascending (updated_at, id); valid after finishLoading(). */
  private index: Int32Array;
  private readonly currencies: string[] = [];
  private readonly skus: string[] = [];
  private readonly currencyIds = new Map<string, number>();
  private readonly skuIds = new Map<string, number>();

  constructor(capacity = 1024) {
    this.capacity = Math.max(16, capacity);
    this.customerId = new Int32Array(this.capacity);
    this.currency = new Uint8Array(this.capacity);
    this.amountCents = new Float64Array(this.capacity);
    this.sku = new Uint16Array(this.capacity);
    this.createdAt = new Float64Array(this.capacity);
    this.updatedAt = new Float64Array(this.capacity);
    this.status = new Uint8Array(this.capacity);
    this.index = new Int32Array(this.capacity);
  }

  /** Adds an order with updated_at = created_at, without indexing it (bulk loading); returns its id. */
  load(order: NewOrder): number {
    if (this.count === this.capacity) this.grow();
    const slot = this.count++;
    this.customerId[slot] = order.customerId;
    this.currency[slot] = intern(order.currency, this.currencies, this.currencyIds, 255, 'currencies');
    this.amountCents[slot] = order.amountCents;
    this.sku[slot] = intern(order.sku, this.skus, this.skuIds, 65_535, 'SKUs');
    this.createdAt[slot] = order.createdAt;
    this.updatedAt[slot] = order.createdAt;
    this.status[slot] = 0;
    return slot + 1;
  }

  /** Sorts the index once after bulk loading (and replaying changes). */
  finishLoading(): void {
    this.index = sortByTime(this.count, this.updatedAt, this.capacity);
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 1 && id <= this.count;
  }

  customerOf(id: number): number {
    return this.customerId[id - 1]!;
  }

  currencyOf(id: number): string {
    return this.currencies[this.currency[id - 1]!]!;
  }

  statusOf(id: number): OrderStatus {
    return STATUSES[this.status[id - 1]!]!;
  }

  updatedAtOf(id: number): number {
    return this.updatedAt[id - 1]!;
  }

  /** The latest updated_at of any order (0 when empty): a change is stamped after it. */
  latestUpdate(): number {
    return this.count === 0 ? 0 : this.updatedAt[this.index[this.count - 1]! - 1]!;
  }

  /** A change to an order: new values, updated_at = `at`, and (indexed) its move in the order. */
  change(id: number, at: number, change: { amountCents?: number; status?: OrderStatus }, indexed: boolean): void {
    const slot = id - 1;
    if (indexed) this.unindex(id);
    if (change.amountCents !== undefined) this.amountCents[slot] = change.amountCents;
    if (change.status !== undefined) this.status[slot] = STATUSES.indexOf(change.status);
    this.updatedAt[slot] = at;
    if (indexed) this.reindex(id);
  }

  /** A new order stamped `at` (its updated_at); returns its id. */
  add(order: NewOrder, at: number, indexed: boolean): number {
    const id = this.load(order);
    this.updatedAt[id - 1] = at;
    if (indexed) this.reindex(id);
    return id;
  }

  toApi(id: number): ApiOrder {
    const slot = id - 1;
    return {
      id,
      customer_id: this.customerId[slot]!,
      currency: this.currencies[this.currency[slot]!]!,
      amount: formatCents(this.amountCents[slot]!),
      sku: this.skus[this.sku[slot]!]!,
      created_at: new Date(this.createdAt[slot]!).toISOString(),
      updated_at: new Date(this.updatedAt[slot]!).toISOString(),
      status: STATUSES[this.status[slot]!]!,
    };
  }

  /**
   * Up to `limit` ids in (updated_at, id) order, from the first at or after `since` and strictly
   * after `after`; `more` says whether anything follows the last one.
   */
  page(since: number | undefined, after: OrderPosition | undefined, limit: number): { ids: Int32Array; more: boolean } {
    let start = 0;
    if (since !== undefined) start = this.firstAtOrAfter(since, 0);
    if (after !== undefined) start = Math.max(start, this.firstAtOrAfter(after.updatedAt, after.id + 1));
    const end = Math.min(this.count, start + limit);
    return { ids: this.index.slice(start, end), more: end < this.count };
  }

  /** The first position among the first `length` of the index whose (updated_at, id) >= (updatedAt, id). */
  private firstAtOrAfter(updatedAt: number, id: number, length = this.count): number {
    let low = 0;
    let high = length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.index[middle]!;
      const otherAt = this.updatedAt[other - 1]!;
      if (otherAt < updatedAt || (otherAt === updatedAt && other < id)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private unindex(id: number): void {
    const position = this.firstAtOrAfter(this.updatedAt[id - 1]!, id);
    this.index.copyWithin(position, position + 1, this.count);
  }

  /** Puts an order (removed from the index, or new: the last slot) back where it belongs; usually the end. */
  private reindex(id: number): void {
    const last = this.count - 1;
    const position = this.firstAtOrAfter(this.updatedAt[id - 1]!, id, last);
    this.index.copyWithin(position + 1, position, last);
    this.index[position] = id;
  }

  private grow(): void {
    this.capacity *= 2;
    this.customerId = resized(this.customerId, new Int32Array(this.capacity));
    this.currency = resized(this.currency, new Uint8Array(this.capacity));
    this.amountCents = resized(this.amountCents, new Float64Array(this.capacity));
    this.sku = resized(this.sku, new Uint16Array(this.capacity));
    this.createdAt = resized(this.createdAt, new Float64Array(this.capacity));
    this.updatedAt = resized(this.updatedAt, new Float64Array(this.capacity));
    this.status = resized(this.status, new Uint8Array(this.capacity));
    this.index = resized(this.index, new Int32Array(this.capacity));
  }
}

/** Cents as the API writes amounts: major units with two decimals ("19.99"). */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function resized<T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

function intern(value: string, values: string[], ids: Map<string, number>, max: number, what: string): number {
  let id = ids.get(value);
  if (id === undefined) {
    if (values.length > max) throw new RangeError(`the shop holds at most ${max + 1} distinct ${what}`);
    id = values.length;
    values.push(value);
    ids.set(value, id);
  }
  return id;
}

/**
 * Ids 1..count sorted by updated_at, ties by id: a stable LSD radix sort on the time's offset
 * from the earliest, 16 bits a pass (a comparison sort of a million takes ten times longer).
 */
function sortByTime(count: number, updatedAt: Float64Array, capacity: number): Int32Array {
  let ids = new Int32Array(capacity);
  for (let i = 0; i < count; i++) ids[i] = i + 1;
  if (count < 2) return ids;
  let earliest = Infinity;
  let latest = -Infinity;
  for (let i = 0; i < count; i++) {
    earliest = Math.min(earliest, updatedAt[i]!);
    latest = Math.max(latest, updatedAt[i]!);
  }
  let other = new Int32Array(capacity);
  const counts = new Int32Array(65_536);
  for (let shift = 1; shift <= latest - earliest; shift *= 65_536) {
    counts.fill(0);
    for (let i = 0; i < count; i++) counts[Math.floor((updatedAt[ids[i]! - 1]! - earliest) / shift) % 65_536]!++;
    for (let digit = 0, total = 0; digit < 65_536; digit++) {
      const n = counts[digit]!;
      counts[digit] = total;
      total += n;
    }
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      other[counts[Math.floor((updatedAt[id - 1]! - earliest) / shift) % 65_536]!++] = id;
    }
    [ids, other] = [other, ids];
  }
  return ids;
}
