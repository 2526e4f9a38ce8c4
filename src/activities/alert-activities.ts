import { randomUUID } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import type { AlertSettings } from '../alert-settings.js';
import { runAlertFacts, type FinishedRun } from '../run-alerts.js';
import type { Alerts } from '../services/alerts.js';
import { whileHeartbeating } from './heartbeats.js';

export interface AlertServices {
  alerts: Alerts;
  settings: AlertSettings;
}

export interface RaiseRunAlertResult {
  raised: boolean;
  incidentKey?: string;
  /** Channels sent by this attempt, and by earlier ones (a retry, another raiser). */
  sent?: string[];
}

/** Waits `ms` unless the attempt is cancelled (or timed out) meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export function createAlertActivities(services: AlertServices) {
  return {
    /**
     * A scheduled run has ended (the workflow interceptor calls this for every job): if that is
     * an incident, records it once and sends its alert once per channel. A channel another
     * attempt still holds (a worker killed mid-send) is waited for within this attempt, until
     * its lease runs out, then taken over; a failed send fails the attempt, and the retry
     * continues. Cancellation (a timeout too) stops it before the next send.
     */
    async raiseRunAlert(run: FinishedRun): Promise<RaiseRunAlertResult> {
      const facts = runAlertFacts(run, services.settings);
      if (!facts) return { raised: false };
      const context = Context.current();
      const signal = context.cancellationSignal;
      const { alertId, created } = await services.alerts.raise(facts);
      const attemptToken = `${context.info.activityId}#${context.info.attempt}:${randomUUID()}`;
      const report = await whileHeartbeating(async () => {
        for (;;) {
          const delivered = await services.alerts.deliver(alertId, { attemptToken, signal });
          if (signal.aborted) throw signal.reason ?? new Error('the alert attempt was cancelled');
          if (delivered.failed.length > 0) {
            throw new Error(`the alert ${facts.incidentKey} was not sent: ${delivered.failed.map((f) => `${f.channel}: ${f.error}`).join('; ')}`);
          }
          if (delivered.held.length === 0) return delivered;
          await pause(Math.max(...delivered.held.map((held) => held.forMs)) + 250, signal);
        }
      });
      if (report.refused.length > 0) {
        // Refused for good: retrying changes nothing, and the run's own outcome must not wait on it.
        log.warn('alert refused', { incidentKey: facts.incidentKey, refused: report.refused.map((r) => `${r.channel}: ${r.reason}`).join('; ') });
      }
      if (report.notConfigured.length > 0 || services.alerts.channelNames().length === 0) {
        log.warn('alert recorded, but no channel to send it through here (set ALERT_EMAIL or ALERT_WEBHOOK_URL)', { incidentKey: facts.incidentKey });
      }
      log.info('alert raised', { incidentKey: facts.incidentKey, kind: facts.kind, recordedNow: created, sent: report.sent.join(',') });
      return { raised: true, incidentKey: facts.incidentKey, sent: [...report.sent, ...report.alreadySent] };
    },
  };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;
