import net from 'node:net';
import type { FastifyServerOptions } from 'fastify';

/**
 * ADMIN_TRUST_PROXY: which X-Forwarded-For / -Proto headers to believe. `false` (no proxy),
 * a hop count (`1`: one reverse proxy in front), or the proxies' addresses and CIDRs
 * (`10.0.0.1,10.1.0.0/16`). Never "trust all": with `true` any client could name its own
 * address in X-Forwarded-For and so walk around the per-client sign-in limit.
 */
export type TrustProxySetting = false | number | string[];

export const TRUST_PROXY_RULE =
  "must be false, a number of proxy hops (1 to 100), or a comma-separated list of proxy addresses or CIDRs (e.g. 10.0.0.1,10.1.0.0/16); 'true' (believe every client's X-Forwarded-For) is not allowed";

/** The setting, or null when the text breaks TRUST_PROXY_RULE. */
export function parseTrustProxy(value: string): TrustProxySetting | null {
  const text = value.trim();
  if (text === 'false' || text === '0') return false;
  if (/^\d{1,3}$/.test(text)) return Number(text) <= 100 ? Number(text) : null;
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.every(isAddressOrCidr) ? entries : null;
}

/** fastify's `trustProxy`: a hop count becomes "the nearest N hops", a list stays a list. */
export function fastifyTrustProxy(setting: TrustProxySetting): NonNullable<FastifyServerOptions['trustProxy']> {
  if (typeof setting !== 'number') return setting;
  const hops = setting;
  return (_address: string, hop: number) => hop < hops;
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = net.isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}
