import crypto from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { jobOf, type ScheduleDeclaration } from '../schedules.js';
import { CUSTOMER_IDS, STARTED_FROM } from './search-attributes.js';

/** Marks schedules this project manages; only those are ever pruned. */
const MANAGED_BY = 'durable-jobs';

export interface ApplyReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Schedules in the namespace that code no longer declares (ours or not). */
  undeclared: Array<{ id: string; managed: boolean }>;
  pruned: string[];
}

/**
 * The hash of a declaration as applied to a task queue. It travels in the action memo
 * (`scheduleRevision`), which an update can change: comparing it tells "unchanged" from
 * "changed in code" without normalising Temporal's spec.
 */
export function scheduleRevision(declaration: ScheduleDeclaration, taskQueue: string): string {
  const job = jobOf(declaration);
  return crypto.createHash('sha256').update(JSON.stringify({ declared: declaration, workflowType: job.workflowType, taskQueue })).digest('hex').slice(0, 12);
}

function toOptions(declaration: ScheduleDeclaration, taskQueue: string) {
  const job = jobOf(declaration);
  const revision = scheduleRevision(declaration, taskQueue);
  const customerIds = declaration.input.customerIds;
  return {
    revision,
    spec: { intervals: [declaration.every] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: job.workflowType,
      workflowId: declaration.workflowIdPrefix,
      taskQueue,
      args: [declaration.input],
      typedSearchAttributes: [
        { key: STARTED_FROM, value: 'schedule' },
        { key: CUSTOMER_IDS, value: Array.isArray(customerIds) ? customerIds.map(String) : ['all'] },
      ],
      memo: { startedBy: `schedule:${declaration.id}`, startedFrom: 'schedule', input: declaration.input, scheduleRevision: revision },
      staticSummary: `Scheduled: ${declaration.note.split('.')[0]}`,
    },
    policies: { overlap: ScheduleOverlapPolicy[declaration.overlap], catchupWindow: declaration.catchupWindow, pauseOnFailure: false },
  } satisfies Partial<ScheduleOptions> & { revision: string };
}

/**
 * Makes the namespace's schedules match the declarations: creates the missing, updates the
 * changed (keeping a pause and its note), leaves the identical alone; reports schedules no
 * longer declared and deletes them only with `prune` (and only ones we created).
 */
export async function applySchedules(
  client: Client,
  declarations: ScheduleDeclaration[],
  options: { taskQueue: string; prune: boolean; idPrefix?: string },
): Promise<ApplyReport> {
  const report: ApplyReport = { created: [], updated: [], unchanged: [], undeclared: [], pruned: [] };
  for (const declaration of declarations) {
    const { revision, ...desired } = toOptions(declaration, options.taskQueue);
    const handle = client.schedule.getHandle(declaration.id);
    try {
      const current = await handle.describe();
      const currentRevision = (current.action as { memo?: Record<string, unknown> }).memo?.scheduleRevision;
      if (currentRevision === revision) {
        report.unchanged.push(declaration.id);
        continue;
      }
      await handle.update((previous) => ({
        ...desired,
        state: { paused: previous.state.paused, note: previous.state.paused ? previous.state.note : declaration.note },
      }));
      report.updated.push(declaration.id);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      await client.schedule.create({ scheduleId: declaration.id, ...desired, state: { note: declaration.note }, memo: { managedBy: MANAGED_BY } });
      report.created.push(declaration.id);
    }
  }
  const declared = new Set(declarations.map((d) => d.id));
  for await (const summary of client.schedule.list()) {
    if (declared.has(summary.scheduleId)) continue;
    if (options.idPrefix && !summary.scheduleId.startsWith(options.idPrefix)) continue;
    const managed = summary.memo?.managedBy === MANAGED_BY;
    report.undeclared.push({ id: summary.scheduleId, managed });
    if (options.prune && managed) {
      await client.schedule.getHandle(summary.scheduleId).delete();
      report.pruned.push(summary.scheduleId);
    }
  }
  return report;
}
