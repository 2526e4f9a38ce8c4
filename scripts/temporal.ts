// `npm run temporal -- <args>`: the pinned temporal CLI, pointed at the configured server.
import { spawnSync } from 'node:child_process';
import { resolveTemporalCli } from '../src/dev/temporal-cli.js';
import { loadTemporalSettings } from '../src/temporal/connection-settings.js';

const settings = loadTemporalSettings();
const cli = resolveTemporalCli();
// The CLI reads the same TEMPORAL_* variables and envconfig profile itself; we only fill
// in the local default address so it matches what `npm start` runs.
const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? settings.address };
const result = spawnSync(cli, process.argv.slice(2), { stdio: 'inherit', env });
process.exit(result.status ?? 1);
