import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitUntil } from '../../src/dev/ports.js';
import { freePort } from './free-port.js';

/** Debian's package puts it here; `npm test` installs it (scripts/ensure-prometheus.sh). */
const PROMETHEUS = '/usr/bin/prometheus';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  /** An instant query through the HTTP API (`/api/v1/query`): one sample per series. */
  query(expression: string): Promise<Sample[]>;
  /** Polls `expression` until `done` holds for its samples, then returns them; fails at the deadline with the last answer. */
  waitFor(expression: string, done: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus server scraping `targets` (host:port, path /metrics) every second: its
 * own config and storage in a temporary directory, its web API on a free port.
 */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  if (!fs.existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} is missing: run 'bash scripts/ensure-prometheus.sh' (or 'sudo apt-get install prometheus') once`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: durable-jobs',
    '    static_configs:',
    `      - targets: [${targets.map((target) => `'${target}'`).join(', ')}]`,
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited at start: ${stderr}`);
      return fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    }, 'prometheus', 30_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const query = async (expression: string): Promise<Sample[]> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`prometheus query ${expression} failed: ${body.error}`);
    return body.data.result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
  };
  return {
    url,
    query,
    waitFor: async (expression, done, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      let samples = await query(expression);
      while (!done(samples) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        samples = await query(expression);
      }
      if (!done(samples)) throw new Error(`prometheus: ${expression} did not reach the expected value within ${timeoutMs / 1000} s; last answer: ${JSON.stringify(samples)}`);
      return samples;
    },
    stop,
  };
}
