import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { resolveTemporalCli } from '../../src/dev/temporal-cli.js';

const run = promisify(execFile);

/** Runs the real, pinned `temporal` CLI binary against the test server. */
export async function temporalCli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') };
  try {
    const { stdout, stderr } = await run(resolveTemporalCli(), args, { env });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', code: failed.code ?? 1 };
  }
}

/** `temporal workflow list --query Q -o json`, as a list of workflow ids. */
export async function listWorkflowIds(query: string): Promise<string[]> {
  const { stdout, stderr, code } = await temporalCli(['workflow', 'list', '--query', query, '-o', 'json']);
  if (code !== 0) throw new Error(`temporal workflow list failed: ${stderr}`);
  const text = stdout.trim();
  if (!text) return [];
  const items: Array<{ execution?: { workflowId?: string } }> = text.startsWith('[')
    ? JSON.parse(text)
    : text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return items.map((item) => item.execution?.workflowId ?? '').sort();
}
