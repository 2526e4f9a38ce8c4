import net from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';

/**
 * A pooled SMTP transport from an `smtp://` / `smtps://` URL.
 *
 * Built from parts on purpose: `createTransport(url, options)` treats the second argument
 * as message defaults, so the "pool" there is silently ignored and every message opens a
 * connection of its own. And on plain connections we turn Nagle's algorithm off: nodemailer
 * leaves it on, and the short end-of-message line then waits for the server's delayed ACK
 * (about 40 ms a message, a ceiling of ~25 messages a second per connection).
 */
export function createMailTransport(smtpUrl: string, maxConnections: number): Transporter {
  const { host, port, secure, auth } = smtpServer(smtpUrl);
  return nodemailer.createTransport({
    host,
    port,
    secure,
    auth,
    pool: true,
    maxConnections,
    maxMessages: Infinity,
    ...(secure
      ? {}
      : {
          getSocket: (_options: unknown, callback: (error: Error | null, socket?: { connection: net.Socket }) => void) => {
            const socket = net.connect({ host, port });
            socket.setNoDelay(true);
            socket.once('connect', () => callback(null, { connection: socket }));
            socket.once('error', (error) => callback(error));
          },
        }),
  } as Parameters<typeof nodemailer.createTransport>[0]);
}

/** Where an `smtp://` / `smtps://` URL points, and its login if it has one (smtps: TLS from the start). */
export function smtpServer(smtpUrl: string): { host: string; port: number; secure: boolean; auth: { user: string; pass: string } | undefined } {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
  };
}
