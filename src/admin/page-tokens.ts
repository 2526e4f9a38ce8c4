import crypto from 'node:crypto';

/** A paging token this server did not hand out for this list (edited, cut short, made up, from another filter). */
export class InvalidPageTokenError extends Error {
  override name = 'InvalidPageTokenError';
}

/**
 * Temporal's paging tokens as they travel in links: base64url with an HMAC over the token and
 * the list it belongs to (filters and page size). A token that fails the check is refused
 * here with a clear message; Temporal itself would answer a damaged one with a retried
 * internal error, seconds later. The key is the admin session secret, so with a random
 * per-process secret an old link after a restart is refused the same way.
 */
export class PageTokens {
  constructor(private readonly secret: string) {}

  sign(list: string, token: Buffer): string {
    const body = token.toString('base64url');
    return `${body}~${this.mac(list, body)}`;
  }

  verify(list: string, text: string): Buffer {
    const match = /^([A-Za-z0-9_-]{1,2000})~([A-Za-z0-9_-]{22})$/.exec(text);
    if (!match) throw new InvalidPageTokenError('not a paging token of this list');
    const [, body, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.mac(list, body));
    if (!crypto.timingSafeEqual(Buffer.from(mac), expected)) throw new InvalidPageTokenError('not a paging token of this list');
    return Buffer.from(body, 'base64url');
  }

  private mac(list: string, body: string): string {
    return crypto.createHmac('sha256', this.secret).update(`runs-page\n${list}\n${body}`).digest().subarray(0, 16).toString('base64url');
  }
}
