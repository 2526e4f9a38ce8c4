// ShopOrdersClient against a real HTTP server that misbehaves on purpose: what a broken or
// hostile source can make the importer do (issue #12: bounded pages, honest retry decisions).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopOrdersClient, SourceRateLimitedError, SourceRefusedError } from '../../src/services/shop-orders-client.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;
let handler: Handler = (_request, response) => response.end();
let server: http.Server;
let baseUrl: string;
/** Bytes the server managed to hand to the socket for the last response. */
let written = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = (options: { maxBodyBytes?: number } = {}) => new ShopOrdersClient({ baseUrl, apiKey: 'test-key', timeoutMs: 10_000, ...options });
const page = (orders: unknown[], nextCursor: string | null = null) => JSON.stringify({ orders, next_cursor: nextCursor });

describe('ShopOrdersClient', () => {
  it('reads a page, sending the key as a bearer token', async () => {
    let authorization: string | undefined;
    handler = (request, response) => {
      authorization = request.headers.authorization;
      response.setHeader('content-type', 'application/json');
      response.end(page([{ id: 1 }], 'next'));
    };
    expect(await client().fetchPage({ limit: 10 })).toEqual({ records: [{ id: 1 }], nextCursor: 'next' });
    expect(authorization).toBe('Bearer test-key');
  });

  it('refuses a chunked body (no Content-Length) as soon as it passes the limit, without reading the rest', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'x');
    written = 0;
    handler = (_request, response) => {
      response.setHeader('content-type', 'application/json');
      // Chunked: 64 MiB of it if the client kept reading; it should stop after a few KiB.
      const push = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!response.write(chunk)) return response.once('drain', push);
        }
        response.end();
      };
      push();
    };
    const fetching = client({ maxBodyBytes: 64 * 1024 }).fetchPage({ limit: 10 });
    await expect(fetching).rejects.toBeInstanceOf(SourceRefusedError);
    await expect(fetching).rejects.toThrow(/more than 65536 bytes \(at most 65536 are accepted\); use a smaller page size/);
    // Socket buffers hold some megabytes at most: nowhere near the 64 MiB the server would send.
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a declared Content-Length over the limit before reading the body', async () => {
    handler = (_request, response) => {
      response.setHeader('content-length', String(1024 * 1024));
      response.end(Buffer.alloc(1024 * 1024, ' '));
    };
    await expect(client({ maxBodyBytes: 1000 }).fetchPage({ limit: 10 })).rejects.toThrow(/a page of 1048576 bytes \(at most 1000 are accepted\)/);
  });

  it('a 429 waits as long as the server asks; a refused key names ORDERS_API_KEY and is final', async () => {
    handler = (_request, response) => {
      response.statusCode = 429;
      response.setHeader('retry-after', '7');
      response.end('slow down');
    };
    const limited = await client().fetchPage({ limit: 10 }).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(SourceRateLimitedError);
    expect((limited as SourceRateLimitedError).retryAfterMs).toBe(7000);
    handler = (_request, response) => {
      response.statusCode = 401;
      response.end();
    };
    await expect(client().fetchPage({ limit: 10 })).rejects.toThrow(/refused our key \(401\); check ORDERS_API_KEY/);
  });

  it('refuses a page that breaks the paging contract: more records than asked, or an oversized cursor', async () => {
    handler = (_request, response) => response.end(page([{}, {}, {}]));
    await expect(client().fetchPage({ limit: 2 })).rejects.toThrow(/sent 3 orders for a page of at most 2/);
    handler = (_request, response) => response.end(page([], 'c'.repeat(5000)));
    await expect(client().fetchPage({ limit: 2 })).rejects.toThrow(/next_cursor of 5000 characters/);
  });
});
