import { ShopOrdersClient, SourceRateLimitedError, SourceRefusedError } from '../services/shop-orders-client.js';
import { displayUrl, errorText, withTimeout, type CheckResult } from './check-result.js';

/**
 * The shop's orders API answers an authenticated request: one page of one order, through the
 * importer's own client, so a wrong key fails here as it would fail an import (naming
 * ORDERS_API_KEY, never showing it).
 */
export async function checkShopApi(ordersApi: { url: string; apiKey: string }, timeoutMs: number, fix: string): Promise<CheckResult> {
  const part = 'shop API';
  const where = displayUrl(ordersApi.url);
  const client = new ShopOrdersClient({ baseUrl: ordersApi.url, apiKey: ordersApi.apiKey, timeoutMs });
  try {
    await withTimeout(timeoutMs, `the shop API at ${where}`, client.fetchPage({ limit: 1 }));
    return { part, status: 'ok', detail: `${where} answered an authenticated request` };
  } catch (error) {
    if (error instanceof SourceRateLimitedError) {
      return { part, status: 'warn', detail: `${where} answered, but is rate limiting us (429), so the key was not checked; try again later` };
    }
    if (error instanceof SourceRefusedError) return { part, status: 'fail', detail: `${where}: ${errorText(error)}` };
    // The client's message names the API's address and why (refused, reset, timed out, 5xx).
    return { part, status: 'fail', detail: `${errorText(error)}; ${fix}` };
  }
}
