/**
 * The alert monitor: what no worker can report, watched from outside the workers (none may be
 * running). Every minute it looks at each job task queue (has any worker polled it within
 * ALERT_NO_WORKER_MINUTES?) and each declared schedule (did it skip runs that missed its
 * catch-up window?), and alerts once per incident; then it sends any alert still pending (one
 * whose sender gave up or died). It runs in `npm start` and as `npm run monitor`; several may
 * run at once: the incidents and their start live in PostgreSQL, so each is alerted once.
 */
import type { Logger } from 'pino';
import type { AlertSettings } from '../alert-settings.js';
import { jobByKind } from '../jobs/index.js';
import type { AlertFacts } from '../services/alert-message.js';
import type { AlertConditions } from '../services/alert-conditions.js';
import type { Alerts } from '../services/alerts.js';
import type { MonitorProbes } from './monitor-probes.js';
import { WORKER_SEEN_WITHIN_MS } from './task-queue-health.js';

export const MONITOR_INTERVAL_MS = 60_000;

export interface MonitorDeps {
  probes: MonitorProbes;
  conditions: AlertConditions;
  alerts: Alerts;
  settings: AlertSettings;
  /** The task queues the jobs run on (every door starts runs on TEMPORAL_TASK_QUEUE). */
  taskQueues: string[];
  /** The declared schedules (src/schedules.ts), with the job each runs. */
  schedules: Array<{ id: string; job: string }>;
  logger: Logger;
}

/** What one check found: the incident keys alerted (new or still open), and checks that could not run. */
export interface MonitorCheck {
  incidents: string[];
  errors: string[];
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} minute${Math.round(ms / 60_000) === 1 ? '' : 's'}`;

export class Monitor {
  constructor(private readonly deps: MonitorDeps) {}

  /** One look at everything; `now` is the check's clock (tests move it forward). */
  async checkOnce(now = new Date()): Promise<MonitorCheck> {
    const check: MonitorCheck = { incidents: [], errors: [] };
    const guarded = async (what: string, work: () => Promise<AlertFacts | null>) => {
      try {
        const facts = await work();
        if (facts) {
          check.incidents.push(facts.incidentKey);
          const { alertId } = await this.deps.alerts.raise(facts);
          const report = await this.deps.alerts.deliver(alertId);
          for (const failed of report.failed) this.deps.logger.warn({ incident: facts.incidentKey, channel: failed.channel, err: failed.error }, 'alert not sent yet; the next check tries again');
        }
      } catch (error) {
        check.errors.push(`${what}: ${(error as Error).message}`);
        this.deps.logger.warn({ err: (error as Error).message }, `alert monitor: checking ${what} failed`);
      }
    };
    for (const taskQueue of this.deps.taskQueues) await guarded(`task queue ${taskQueue}`, () => this.taskQueueIncident(taskQueue, now));
    for (const schedule of this.deps.schedules) await guarded(`schedule ${schedule.id}`, () => this.scheduleIncident(schedule, now));
    await guarded('pending alerts', async () => {
      await this.deps.alerts.deliverPending();
      return null;
    });
    return check;
  }

  /** Checks now, then every `intervalMs`, until stopped (a check in progress finishes first). */
  start(intervalMs = MONITOR_INTERVAL_MS): { stop(): Promise<void> } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    const tick = () => {
      running = this.checkOnce().finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
    };
    tick();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running.catch(() => undefined);
      },
    };
  }

  /**
   * No worker polled the queue within WORKER_SEEN_WITHIN_MS (an idle worker's long poll makes
   * its last poll up to about a minute old): the outage began at its last poll (or, when the
   * server no longer remembers one, when a monitor first saw none), and is an incident once it
   * has lasted ALERT_NO_WORKER_MINUTES. A poll ends it; the next outage is a new incident.
   */
  private async taskQueueIncident(taskQueue: string, now: Date): Promise<AlertFacts | null> {
    const { settings } = this.deps;
    const key = `no-worker:${settings.namespace}/${taskQueue}`;
    const lastPoll = await this.deps.probes.lastPoll(taskQueue);
    if (lastPoll && now.getTime() - lastPoll.getTime() <= WORKER_SEEN_WITHIN_MS) {
      await this.deps.conditions.cleared(key);
      return null;
    }
    const since = await this.deps.conditions.holding(key, lastPoll ?? now);
    const limitMs = settings.noWorkerMinutes * 60_000;
    if (now.getTime() - since.getTime() < limitMs) return null;
    const ui = `${settings.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/task-queues/${encodeURIComponent(taskQueue)}`;
    return {
      incidentKey: `${key}:${since.toISOString()}`,
      kind: 'no-worker',
      job: null,
      title: `no worker has polled task queue ${taskQueue} for ${minutes(now.getTime() - since.getTime())}`,
      happenedAt: since.toISOString(),
      what: [
        `Task queue: ${taskQueue} (namespace ${settings.namespace}); every job runs on it.`,
        lastPoll ? `Last poll seen: ${lastPoll.toISOString()}.` : `No poll seen since ${since.toISOString()} (the server forgets pollers after about 5 minutes).`,
        'Runs started meanwhile (by the schedules, npm run job, the admin page) wait in the queue and start when a worker polls again.',
        `Alerted after ALERT_NO_WORKER_MINUTES (${settings.noWorkerMinutes}); alerted again only after a worker has polled and stopped again.`,
      ],
      links: [
        { label: 'The task queue in the Temporal Web UI', url: ui },
        { label: 'Status on the admin page', url: `${settings.adminUrl}/status` },
      ],
      fix: [
        'Start a worker: npm run worker (or npm start); on a deployment, find out why the worker processes stopped (their logs, the host).',
        `Check that it polls: npm run temporal -- task-queue describe --task-queue ${taskQueue}`,
      ],
    };
  }

  /**
   * The schedule's count of skipped runs grew: the server could not start them within the
   * catch-up window (it was down or overloaded for longer), so they never run. Growth that
   * continues over a few checks is one incident (AlertConditions.counter).
   */
  private async scheduleIncident(schedule: { id: string; job: string }, now: Date): Promise<AlertFacts | null> {
    const { settings } = this.deps;
    const state = await this.deps.probes.missedCatchups(schedule.id);
    if (!state) return null; // not applied yet: the doctor says so; nothing can be missed
    const key = `schedule-missed-catchup:${settings.namespace}/${schedule.id}`;
    const episode = await this.deps.conditions.counter(key, state.missed, now);
    if (!episode.since) return null;
    const job = jobByKind(schedule.job);
    const again = job?.doors.schedule?.backfill
      ? `Run the times it skipped: npm run schedules -- backfill ${schedule.id} --from <first day> --to <last day> (the days they were to cover; see npm run schedules -- describe ${schedule.id})`
      : `Run it now (its runs catch up in full): npm run schedules -- trigger ${schedule.id}`;
    return {
      incidentKey: `${key}:${episode.since.toISOString()}`,
      kind: 'schedule-missed-catchup',
      job: schedule.job,
      title: `schedule ${schedule.id} skipped runs that missed its catch-up window`,
      happenedAt: episode.since.toISOString(),
      what: [
        `Schedule: ${schedule.id} (job ${schedule.job}), catch-up window ${minutes(state.catchupWindowMs)}.`,
        `Runs skipped because they could not start within the window: ${state.missed} since the schedule was created (Temporal's numActionsMissedCatchupWindow).`,
        'The Temporal server was down or overloaded for longer than the window, so those runs will not happen by themselves.',
      ],
      links: [
        { label: 'The schedule in the Temporal Web UI', url: `${settings.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/schedules/${encodeURIComponent(schedule.id)}` },
        { label: 'Its runs on the admin page', url: `${settings.adminUrl}/runs?${new URLSearchParams({ kind: schedule.job, startedFrom: 'schedule' })}` },
      ],
      fix: [again],
    };
  }
}
