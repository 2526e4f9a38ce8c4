import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { Logger } from 'pino';

export interface SmtpSink {
  url: string;
  port: number;
  dir: string;
  /** Fault injection for tests: answer the next `count` messages with a transient 451. */
  deferNext(count: number): void;
  /** Fault injection for tests: answer the next `count` messages with a permanent 550. */
  rejectNext(count: number): void;
  /** Fault injection: drop every open connection and refuse new ones (421) for `ms`. */
  outage(ms: number): void;
  /** Fault injection: store the next `count` messages, then cut the connection before replying. */
  dropAfterAccept(count: number): void;
  /** Fault injection: store each message, then wait `ms` before answering its DATA with 250 (0: no wait). */
  delayReplies(ms: number): void;
  stop(): Promise<void>;
}

/**
 * A real SMTP server, in-process, that stores every accepted message as an .eml file.
 * The file name carries the Message-ID and a counter, so a redelivery stays visible as a
 * second file with the same id.
 */
export async function startSmtpSink(dir: string, port: number, logger: Logger): Promise<SmtpSink> {
  fs.mkdirSync(dir, { recursive: true });
  let counter = 0;
  let deferrals = 0;
  let rejections = 0;
  let drops = 0;
  let downUntil = 0;
  let replyDelayMs = 0;
  const cut = (session: { id: string }) => {
    // smtp-server keeps its connections in a set; cutting the socket is what a crash looks like.
    const connections = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
    for (const connection of connections) if (connection.id === session.id) connection._socket.destroy();
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // A sink, not a gate: any login is accepted, so an SMTP_URL with credentials works here.
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(_session, callback) {
      if (Date.now() < downUntil) return callback(Object.assign(new Error('service not available, try later'), { responseCode: 421 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (deferrals > 0 || rejections > 0) {
          const permanent = deferrals === 0;
          permanent ? rejections-- : deferrals--;
          const error = Object.assign(new Error(permanent ? 'mailbox unavailable' : 'try again later'), { responseCode: permanent ? 550 : 451 });
          return callback(error);
        }
        const message = Buffer.concat(chunks);
        const messageId = /^message-id:\s*<?([^>\r\n]+)>?/im.exec(message.toString('utf8', 0, 8192))?.[1] ?? 'no-id';
        const file = path.join(dir, `${safe(messageId)}.${Date.now()}-${++counter}.eml`);
        if (drops > 0) {
          drops--;
          fs.writeFile(file, message, () => cut(session));
          return;
        }
        fs.writeFile(file, message, (error) => setTimeout(() => callback(error ?? null), replyDelayMs));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client vanishing mid-session (a killed worker) surfaces here as ECONNRESET; without a
  // listener it would be an uncaught error in whatever process hosts the sink.
  server.on('error', (error) => logger.debug({ err: error.message }, 'SMTP client connection error'));
  const actualPort = (server.server.address() as { port: number }).port;
  logger.info({ port: actualPort, dir }, 'SMTP sink listening');
  return {
    url: `smtp://127.0.0.1:${actualPort}`,
    port: actualPort,
    dir,
    deferNext: (count) => void (deferrals += count),
    rejectNext: (count) => void (rejections += count),
    outage: (ms) => {
      downUntil = Date.now() + ms;
      const connections = (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections;
      for (const connection of connections) connection._socket.destroy();
    },
    dropAfterAccept: (count) => void (drops += count),
    delayReplies: (ms) => void (replyDelayMs = ms),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const safe = (value: string) => value.replace(/[^A-Za-z0-9@._-]+/g, '_');
