import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

// Context the SDK attaches to every line that says nothing to a reader (and a task token is an opaque credential).
const DROPPED = new Set(['taskToken', 'sdkComponent', 'namespace', 'isLocal', 'taskQueue', 'workflowType']);
// An activity's lines name the run workflowRunId, a workflow's runId: one name, so one query finds every line of a run.
const RENAMED: Record<string, string> = { workflowRunId: 'runId' };

/**
 * The Temporal runtime's logger: the SDK's logs, and our activity/workflow `log` lines, through
 * pino: our own lines at info, the SDK's internal chatter (bundling, state changes) only from
 * warn. Installed with the runtime (src/observability/runtime.ts), once per process.
 */
export function temporalLogger(logger: Logger): DefaultLogger {
  const sink = (entry: LogEntry) => {
    const meta = entry.meta ?? {};
    const component = meta.sdkComponent;
    const ours = component === 'activity' || component === 'workflow';
    const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    if (!ours && (level === 'info' || level === 'debug' || level === 'trace')) return;
    const fields = Object.fromEntries(Object.entries(meta).filter(([key]) => !DROPPED.has(key)).map(([key, value]) => [RENAMED[key] ?? key, value]));
    logger[level](fields, entry.message);
  };
  return new DefaultLogger('INFO', sink);
}
