/**
 * The shop's orders API, as the importer reads it: `GET /orders?updated_since&cursor&limit`
 * with a bearer token, pages in ascending (updated_at, id). Every failure is a class saying
 * whether trying again can help, so the activity can tell Temporal how to retry (a 429 waits
 * exactly as long as the server asks). Records come back unvalidated: a bad record is the
 * importer's to quarantine, never a reason to fail the page.
 */

export interface OrdersPage {
  /** The records as the API sent them (validated by the importer, one by one). */
  records: unknown[];
  /** Where the next page starts; null when nothing follows right now. */
  nextCursor: string | null;
}

export interface PageRequest {
  updatedSince?: string;
  cursor?: string;
  limit: number;
  signal?: AbortSignal;
}

/** The API asked us to slow down: try again after `retryAfterMs`. */
export class SourceRateLimitedError extends Error {
  override name = 'SourceRateLimitedError';
  constructor(readonly retryAfterMs: number) {
    super(`the orders API is rate limiting us (429); it asks to wait ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** A failure that may pass: 5xx, a connection cut, a body cut short, a timeout. */
export class SourceUnavailableError extends Error {
  override name = 'SourceUnavailableError';
}

/** A failure no retry fixes: a wrong key (401/403) or a request the API calls bad (400). */
export class SourceRefusedError extends Error {
  override name = 'SourceRefusedError';
}

export interface ShopOrdersClientOptions {
  baseUrl: string;
  apiKey: string;
  /** One request's deadline, body included. */
  timeoutMs?: number;
  /** The largest response body read, in bytes (default 64 MiB); a larger one is refused as it streams in. */
  maxBodyBytes?: number;
}

/** Retry-After is seconds or an HTTP date; anything unreadable waits a second. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(1000, askedMs(header, now)));
}

/** A server asking for longer (or for years, by mistake) is retried after this, and asked again. */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

function askedMs(header: string | null, now: number): number {
  if (header === null) return 1000;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : date - now;
}

/** Bounds on a page we accept: a broken or hostile source must not exhaust a worker's memory or the history. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_CURSOR_CHARS = 1024;

export class ShopOrdersClient {
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: ShopOrdersClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  async fetchPage(request: PageRequest): Promise<OrdersPage> {
    const url = new URL('orders', this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`);
    if (request.updatedSince) url.searchParams.set('updated_since', request.updatedSince);
    if (request.cursor) url.searchParams.set('cursor', request.cursor);
    url.searchParams.set('limit', String(request.limit));
    const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, { headers: { authorization: `Bearer ${this.options.apiKey}`, accept: 'application/json' }, signal });
      body = await readBounded(response, this.maxBodyBytes);
    } catch (error) {
      if (request.signal?.aborted || error instanceof SourceRefusedError) throw error;
      // Refused, reset, cut mid-body, timed out: the same request later may well work.
      throw new SourceUnavailableError(`the orders API did not answer in full (${describeCause(error)}); ${url.origin}`);
    }
    if (response.status === 429) throw new SourceRateLimitedError(retryAfterMs(response.headers.get('retry-after')));
    if (response.status >= 500) throw new SourceUnavailableError(`the orders API answered ${response.status}: ${excerpt(body)}`);
    if (response.status === 401 || response.status === 403) {
      throw new SourceRefusedError(`the orders API refused our key (${response.status}); check ORDERS_API_KEY`);
    }
    if (response.status !== 200) throw new SourceRefusedError(`the orders API answered ${response.status}: ${excerpt(body)}`);
    const page = parsePage(body);
    if (page.records.length > request.limit) {
      throw new SourceRefusedError(`the orders API sent ${page.records.length} orders for a page of at most ${request.limit}; it does not keep the paging contract`);
    }
    if (page.nextCursor !== null && page.nextCursor.length > MAX_CURSOR_CHARS) {
      throw new SourceRefusedError(`the orders API sent a next_cursor of ${page.nextCursor.length} characters (at most ${MAX_CURSOR_CHARS} are accepted)`);
    }
    return page;
  }
}

/**
 * The body as text, read chunk by chunk and refused as soon as it passes `maxBytes`: a body
 * without a Content-Length (chunked) or with a false one never fills the worker's memory first.
 */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = (bytes: string) => new SourceRefusedError(`the orders API sent a page of ${bytes} bytes (at most ${maxBytes} are accepted); use a smaller page size`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(String(declared));
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw tooLarge(`more than ${maxBytes}`);
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** The envelope must be right (else the body was damaged on the way: retry); the records are checked one by one later. */
function parsePage(body: string): OrdersPage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SourceUnavailableError(`the orders API sent a page that is not JSON (${body.length} bytes): ${excerpt(body)}`);
  }
  const page = parsed as { orders?: unknown; next_cursor?: unknown };
  if (!page || typeof page !== 'object' || !Array.isArray(page.orders) || !(page.next_cursor === null || typeof page.next_cursor === 'string')) {
    throw new SourceUnavailableError('the orders API sent a page without `orders` (a list) and `next_cursor` (a string or null)');
  }
  return { records: page.orders, nextCursor: page.next_cursor };
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

const excerpt = (text: string) => text.replace(/\s+/g, ' ').slice(0, 200);
