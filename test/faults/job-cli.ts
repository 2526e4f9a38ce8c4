import { spawn } from 'node:child_process';

/**
 * Runs `npm run job -- rerun-failed <workflowId> --wait` as a user would (our real CLI, as a
 * child process: its re-run path lives inside scripts/job.ts) and returns the id of the run it
 * started. Throws, with the CLI's output, if it exits non-zero or starts nothing.
 */
export async function rerunFailedWithCli(env: Record<string, string>, workflowId: string, timeoutMs: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/job.ts', 'rerun-failed', workflowId, '--wait'], {
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_PRETTY: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode))).finally(() => clearTimeout(timer));
  const started = /^started (\S+)/m.exec(stdout)?.[1];
  if (code !== 0 || !started) {
    throw new Error(`npm run job -- rerun-failed ${workflowId} --wait exited ${code ?? 'on a signal'}: ${(stderr || stdout).trim().slice(-800)}`);
  }
  return started;
}
