import path from 'node:path';
import { isListening, waitUntil } from '../dev/ports.js';
import { logTail, startChild, type ChildProcess } from './child-process.js';
import { UI_SERVER } from './go-binaries.js';

/** The committed UI server config (cluster/ui-server/config/cluster.yaml, a template). */
const UI_CONFIG_DIR = path.resolve('cluster/ui-server/config');

/** Starts the Temporal Web UI server in front of the frontend; resolves once it serves HTTP. */
export async function startUiServer(options: { frontendAddress: string; port: number; namespace: string; logDir: string }): Promise<{ child: ChildProcess; url: string }> {
  if (await isListening(options.port)) throw new Error(`port ${options.port} (Temporal Web UI) is already in use: set CLUSTER_UI_PORT`);
  const child = startChild('temporal-ui', UI_SERVER.path, ['--root', '/', '--config', UI_CONFIG_DIR, '--env', 'cluster', 'start'], {
    env: { ...process.env, TEMPORAL_ADDRESS: options.frontendAddress, TEMPORAL_UI_PORT: String(options.port), TEMPORAL_NAMESPACE: options.namespace },
    logFile: path.join(options.logDir, 'temporal-ui.log'),
  });
  await waitUntil(async () => {
    if (!child.running()) throw new Error(`the Temporal Web UI server exited (${await child.exited}):\n${logTail(child.logFile)}`);
    return isListening(options.port);
  }, `Temporal Web UI (port ${options.port})`);
  return { child, url: `http://localhost:${options.port}` };
}
