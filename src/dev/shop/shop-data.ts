import fs from 'node:fs';
import path from 'node:path';
import { addDays } from '../../dates.js';
import { demoCustomerCurrency, loadDemoOrders, type ShopDataOptions } from './demo-orders.js';
import { appendMutation, readMutations, type Mutation } from './mutation-log.js';
import { OrderStore, type ApiOrder } from './order-store.js';
import { parseInstant } from './orders-query.js';

/** A control call the shop refuses; `status` is what the control API answers. */
export class ShopControlError extends Error {
  override name = 'ShopControlError';
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

export interface AddOrderInput {
  customerId: number;
  /** An ISO-8601 instant, not in the future (a late order for a past day). */
  createdAt: string;
  /** Major units, up to two decimals: "19.99". */
  amount: string;
  sku: string;
  /** Default: the customer's currency. */
  currency?: string;
}

const OPTIONS_FILE = 'options.json';
const MUTATIONS_FILE = 'mutations.ndjson';

/**
 * The shop's data: the generated demo orders plus every change since, persisted in its own
 * directory (`options.json`: what was generated; `mutations.ndjson`: the changes, replayed
 * at start), so a restarted shop answers exactly as before.
 */
export class ShopData {
  private constructor(
    readonly options: ShopDataOptions,
    readonly store: OrderStore,
    private readonly mutationsFile: string,
  ) {}

  /**
   * Opens the data in `dir`, generating it on first use. Options given for an existing
   * directory must match what it was generated with; `reset` deletes it first.
   */
  static open(dir: string, requested: Partial<ShopDataOptions> = {}, reset = false): ShopData {
    if (reset) fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const optionsFile = path.join(dir, OPTIONS_FILE);
    let options: ShopDataOptions;
    if (fs.existsSync(optionsFile)) {
      options = (JSON.parse(fs.readFileSync(optionsFile, 'utf8')) as { data: ShopDataOptions }).data;
      const differing = (Object.keys(requested) as Array<keyof ShopDataOptions>).filter((key) => requested[key] !== undefined && requested[key] !== options[key]);
      if (differing.length > 0) {
        throw new Error(
          `the shop data in ${dir} was generated with ${JSON.stringify(options)}; ${differing.map((key) => `${key} ${requested[key]}`).join(', ')} differs ` +
            '(start it with reset: true, or delete the directory, to generate it again)',
        );
      }
    } else {
      options = {
        customers: requested.customers ?? 200,
        days: requested.days ?? 30,
        ordersPerCustomerPerDay: requested.ordersPerCustomerPerDay ?? 3,
        endDate: requested.endDate ?? addDays(new Date().toISOString().slice(0, 10), -1),
      };
      validateOptions(options);
      fs.writeFileSync(optionsFile, `${JSON.stringify({ version: 1, data: options }, null, 2)}\n`);
    }
    const mutationsFile = path.join(dir, MUTATIONS_FILE);
    const mutations = readMutations(mutationsFile);
    const store = new OrderStore(Math.ceil(options.customers * options.days * options.ordersPerCustomerPerDay * 1.1) + mutations.length);
    loadDemoOrders(options, store);
    const data = new ShopData(options, store, mutationsFile);
    for (const mutation of mutations) data.apply(mutation, false);
    store.finishLoading();
    return data;
  }

  customerCurrency(customerId: number): string | undefined {
    return Number.isInteger(customerId) && customerId >= 1 && customerId <= this.options.customers ? demoCustomerCurrency(customerId) : undefined;
  }

  addOrder(input: AddOrderInput): ApiOrder {
    const currency = input.currency ?? this.customerCurrency(input.customerId);
    if (currency === undefined) throw new ShopControlError(400, `customerId must be one of the shop's customers, 1 to ${this.options.customers}; got ${JSON.stringify(input.customerId)}`);
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw new ShopControlError(400, `currency must be a three-letter code such as EUR; got ${JSON.stringify(currency)}`);
    const createdAt = typeof input.createdAt === 'string' ? parseInstant(input.createdAt) : undefined;
    if (createdAt === undefined || createdAt > Date.now()) {
      throw new ShopControlError(400, `createdAt must be an ISO-8601 instant with a zone, not in the future; got ${JSON.stringify(input.createdAt)}`);
    }
    if (typeof input.sku !== 'string' || input.sku.length < 1 || input.sku.length > 64) throw new ShopControlError(400, `sku must be a string of 1 to 64 characters; got ${JSON.stringify(input.sku)}`);
    const amountCents = parseAmount(input.amount);
    const id = this.store.count + 1;
    return this.record({ op: 'add', at: this.nextStamp(), id, customerId: input.customerId, currency, amountCents, sku: input.sku, createdAt });
  }

  correctAmount(id: number, amount: string): ApiOrder {
    this.mustExist(id);
    return this.record({ op: 'correct-amount', at: this.nextStamp(), id, amountCents: parseAmount(amount) });
  }

  cancel(id: number): ApiOrder {
    this.mustExist(id);
    if (this.store.statusOf(id) === 'cancelled') throw new ShopControlError(409, `order ${id} is already cancelled`);
    return this.record({ op: 'cancel', at: this.nextStamp(), id });
  }

  /** Every order as the API returns it, by id. */
  snapshot(): ApiOrder[] {
    const orders: ApiOrder[] = new Array(this.store.count);
    for (let id = 1; id <= this.store.count; id++) orders[id - 1] = this.store.toApi(id);
    return orders;
  }

  /**
   * A change's updated_at: now, but strictly after every updated_at so far, so it is never
   * behind a cursor already handed out (a resumed walk sees it) and two changes in one
   * millisecond still come in order.
   */
  private nextStamp(): number {
    return Math.max(Date.now(), this.store.latestUpdate() + 1);
  }

  private mustExist(id: number): void {
    if (!this.store.has(id)) throw new ShopControlError(404, `order ${id} does not exist (ids are 1 to ${this.store.count})`);
  }

  /** Logs the change, then applies it: a change is acknowledged only once it would survive a restart. */
  private record(mutation: Mutation): ApiOrder {
    appendMutation(this.mutationsFile, mutation);
    this.apply(mutation, true);
    return this.store.toApi(mutation.id);
  }

  private apply(mutation: Mutation, indexed: boolean): void {
    switch (mutation.op) {
      case 'add': {
        const id = this.store.add(mutation, mutation.at, indexed);
        if (id !== mutation.id) throw new Error(`the shop's change log adds order ${mutation.id} where order ${id} comes next; the log does not belong to this data`);
        return;
      }
      case 'correct-amount':
        return this.store.change(mutation.id, mutation.at, { amountCents: mutation.amountCents }, indexed);
      case 'cancel':
        return this.store.change(mutation.id, mutation.at, { status: 'cancelled' }, indexed);
    }
  }
}

function parseAmount(amount: unknown): number {
  const match = typeof amount === 'string' ? /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(amount) : null;
  if (!match) throw new ShopControlError(400, `amount must be a decimal string of major units with up to 2 decimals, e.g. "19.99"; got ${JSON.stringify(amount)}`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

function validateOptions(options: ShopDataOptions): void {
  for (const key of ['customers', 'days'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) throw new Error(`shop data option ${key} must be a positive whole number; got ${options[key]}`);
  }
  // A mean, so a fraction is fine (DemoData reads it as float8).
  if (!(options.ordersPerCustomerPerDay > 0 && Number.isFinite(options.ordersPerCustomerPerDay))) {
    throw new Error(`shop data option ordersPerCustomerPerDay must be a positive number; got ${options.ordersPerCustomerPerDay}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.endDate) || parseInstant(`${options.endDate}T00:00:00Z`) === undefined) {
    throw new Error(`shop data option endDate must be a day written YYYY-MM-DD; got ${options.endDate}`);
  }
}
