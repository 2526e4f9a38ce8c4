import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

// Context the SDK attaches to every line that says nothing to a reader (and a task token is an opaque credential).
const DROPPED = new Set(['taskToken', 'sdkComponent', 'namespace', 'isLocal', 'taskQueue', 'workflowRunId', 'workflowType']);

/**
 * Routes the Temporal SDK's logs, and our activity/workflow `log` lines, through pino:
 * our own lines at info, the SDK's internal chatter (bundling, state changes) only from warn.
 * Call once per process, before creating a worker.
 */
export function installTemporalLogging(logger: Logger): void {
  const sink = (entry: LogEntry) => {
    const meta = entry.meta ?? {};
    const component = meta.sdkComponent;
    const ours = component === 'activity' || component === 'workflow';
    const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    if (!ours && (level === 'info' || level === 'debug' || level === 'trace')) return;
    const fields = Object.fromEntries(Object.entries(meta).filter(([key]) => !DROPPED.has(key)));
    logger[level](fields, entry.message);
  };
  Runtime.install({ logger: new DefaultLogger('INFO', sink) });
}
