import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { pino, type Logger } from 'pino';
import { temporalCli } from '../support/temporal-cli.js';
import { REPO_ROOT } from '../bad-input/support.js';

/** A workflow execution's history as `temporal workflow show -o json` prints it, parsed. */
export async function historyJson(workflowId: string, runId?: string): Promise<unknown[]> {
  const { stdout, stderr, code } = await temporalCli(['workflow', 'show', '-w', workflowId, ...(runId ? ['-r', runId] : []), '-o', 'json']);
  if (code !== 0) throw new Error(`temporal workflow show ${workflowId} failed: ${stderr}`);
  const text = stdout.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return [JSON.parse(text)];
    } catch {
      // one JSON document per line: below
    }
  }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/**
 * The text of a history: its JSON plus the decoded text of every payload in it (inputs,
 * results, memo, failures, heartbeat details), so a scan finds a value whether the CLI
 * printed it plainly or base64-encoded.
 */
export function textOf(history: unknown[]): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (typeof record.data === 'string' && record.metadata && typeof record.metadata === 'object') {
      decoded.push(Buffer.from(record.data, 'base64').toString('utf8'));
    }
    Object.values(record).forEach(walk);
  };
  walk(history);
  return `${JSON.stringify(history)}\n${decoded.join('\n')}`;
}

export async function historyText(workflowId: string, runId?: string): Promise<string> {
  return textOf(await historyJson(workflowId, runId));
}

/** Every execution (each continue-as-new run too) on a task queue, as [workflowId, runId]. */
export async function executionsOnQueue(client: Client, taskQueue: string): Promise<Array<{ workflowId: string; runId: string; status: string }>> {
  const runs: Array<{ workflowId: string; runId: string; status: string }> = [];
  for await (const info of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) runs.push({ workflowId: info.workflowId, runId: info.runId, status: info.status.name });
  return runs;
}

/** The names of the secrets whose value occurs in `text`. */
export function leakedSecrets(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets).filter(([, value]) => text.includes(value)).map(([name]) => name);
}

/** A long-running entry point of ours (worker, admin server) whose output is kept for scanning. */
export interface RunningProcess {
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGINT (the documented way to stop it), SIGKILL if it has not exited after 15 s. */
  stop(): Promise<number | null>;
}

export function startScript(script: string, args: string[], env: Record<string, string>): RunningProcess {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', `${script}.ts`), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let output = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve((exitCode = code))));
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    output: () => output,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (exitCode !== undefined) throw new Error(`${script} exited (${exitCode}) before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${script} did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop: async () => {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * An SMTP server that offers AUTH over plain TCP and accepts any login, recording what it was
 * given: proof that a password in SMTP_URL really travelled (the dev sink offers AUTH but
 * accepts none). Stores each message as an .eml file; `deferNext` answers 451 to force a retry.
 */
export async function startLoginSmtpServer(dir: string): Promise<{ port: number; logins: Array<{ username: string; password: string }>; deferNext(count: number): void; stop(): Promise<void> }> {
  const { SMTPServer } = await import('smtp-server');
  const fs = await import('node:fs');
  fs.mkdirSync(dir, { recursive: true });
  const logins: Array<{ username: string; password: string }> = [];
  let deferrals = 0;
  let counter = 0;
  const server = new SMTPServer({
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (deferrals > 0) {
          deferrals--;
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        fs.writeFile(path.join(dir, `${Date.now()}-${++counter}.eml`), Buffer.concat(chunks), (error) => callback(error ?? null));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as { port: number }).port,
    logins,
    deferNext: (count) => void (deferrals += count),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A TCP relay in front of a real server (the Temporal dev server): `hold()` keeps what the
 * client sends from reaching the server until `release()`, so a test can look at the world
 * while a call is in flight; `close()` makes the server unreachable.
 */
export interface HoldingProxy {
  address: string;
  hold(): void;
  release(): void;
  /** Bytes the client sent since `hold()` that the server has not seen. */
  heldBytes(): number;
  close(): Promise<void>;
}

export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const flushes = new Set<() => void>();
  let holding = false;
  let held = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    let queue: Buffer[] = [];
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    const flush = () => {
      for (const chunk of queue) upstream.write(chunk);
      queue = [];
    };
    flushes.add(flush);
    client.on('data', (chunk: Buffer) => {
      if (holding) {
        queue.push(chunk);
        held += chunk.length;
      } else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    hold: () => {
      holding = true;
      held = 0;
    },
    release: () => {
      holding = false;
      for (const flush of flushes) flush();
    },
    heldBytes: () => held,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pino logger at its most talkative level whose every line is kept, to be scanned. */
export function capturingLogger(): { logger: Logger; text(): string } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, text: () => lines.join('') };
}
