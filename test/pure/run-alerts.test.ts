import { describe, expect, it } from 'vitest';
import { alertSettings, EMBEDDED_ALERT_EMAIL, type AlertSettings } from '../../src/alert-settings.js';
import { loadConfig } from '../../src/config.js';
import { renderAlert, scrubbedMessage } from '../../src/services/alert-message.js';
import { runAlertFacts, type FinishedRun } from '../../src/run-alerts.js';
import { JOBS } from '../../src/jobs/index.js';

const settings: AlertSettings = {
  emails: ['ops@example.com'], webhookUrl: null, failedItemsThreshold: 0, quarantinedThreshold: 5, noWorkerMinutes: 5,
  adminUrl: 'https://admin.example.com', temporalUiUrl: 'http://localhost:8233', namespace: 'default',
};

const base = {
  workflowId: 'daily-reports-2026-11-05T02:00:00Z', runId: 'run-1', scheduleId: 'daily-reports',
  scheduledAt: '2026-11-05T02:00:00.000Z', endedAt: '2026-11-05T02:00:13.000Z',
};

describe('runAlertFacts: when a scheduled run is an incident, and what its alert says', () => {
  it('a failed run: job, when, the failure (email addresses removed), links to the run and the admin page, and the fix commands its summary gives', () => {
    const run: FinishedRun = {
      ...base, workflowType: 'dailyReports', outcome: 'failed',
      failure: { type: 'ReportDaysFailed', message: '2026-11-04 (daily-reports-2026-11-05T02:00:00Z:2026-11-04): 2 customers failed; mail to bob@example.com bounced' },
      summary: {
        windowStart: '', windowEnd: '', at: '02:00', unknownTimeZones: [],
        days: [
          { day: '2026-11-04', timeZones: ['UTC'], customers: 9, workflowId: 'daily-reports-2026-11-05T02:00:00Z:2026-11-04', outcome: 'completed', customersProcessed: 9, emailsSent: 7, failures: 2 },
          { day: '2026-11-03', timeZones: ['Pacific/Kiritimati'], customers: 1, workflowId: 'x:2026-11-03', outcome: 'failed', customersProcessed: 0, emailsSent: 0, failures: 1, error: 'boom' },
        ],
      },
    };
    const facts = runAlertFacts(run, settings)!;
    expect(facts).toMatchObject({ incidentKey: 'run-failed:daily-reports-2026-11-05T02:00:00Z:run-1', kind: 'run-failed', job: 'daily-reports', happenedAt: base.endedAt });
    expect(facts.fix).toEqual([
      "npm run job -- rerun-failed 'daily-reports-2026-11-05T02:00:00Z:2026-11-04' --wait",
      'npm run job -- regenerate-reports --from 2026-11-03 --to 2026-11-03 --wait',
    ]);
    const text = renderAlert(facts).text;
    expect(text).toContain('daily-reports: the scheduled run failed');
    expect(text).toContain('When: 2026-11-05 02:00:13 UTC (2026-11-05T02:00:13.000Z)');
    expect(text).toContain('http://localhost:8233/namespaces/default/workflows/daily-reports-2026-11-05T02%3A00%3A00Z/run-1/history');
    expect(text).toContain('https://admin.example.com/runs?kind=daily-reports&startedFrom=schedule&status=failed');
    expect(text).toContain('Schedule: daily-reports, scheduled for 2026-11-05T02:00:00.000Z');
    expect(text).not.toContain('bob@example.com');
  });

  it('a failed run whose failure carries no summary gets the generic advice: fix the cause, run the schedule again', () => {
    const facts = runAlertFacts({ ...base, workflowType: 'importOrders', scheduleId: 'import-orders', outcome: 'failed', failure: { type: 'SchemaBreak', message: 'field amount missing' } }, settings)!;
    expect(facts.fix.at(-1)).toBe("Then run it again: npm run schedules -- trigger 'import-orders'");
    expect(facts.what).toContain('Failure (SchemaBreak): field amount missing');
  });

  it('a completed run over a threshold alerts (with its fix commands); within the thresholds it does not', () => {
    const summary = {
      from: '2026-11-04', to: '2026-11-04', dryRun: false, cancelled: false, customersProcessed: 10, rowsWritten: 10, rowsThatWouldChange: 0,
      emailsSent: 9, emailsAlreadySent: 0, emailsSkippedNoOrders: 0, failures: [{ customerId: 7, step: 'regenerate', reason: 'invalid time zone' }],
      failuresNotListed: 0, failedRanges: [],
    };
    const over = runAlertFacts({ ...base, workflowType: 'regenerateReports', outcome: 'completed', summary }, settings)!;
    expect(over).toMatchObject({ kind: 'run-over-threshold', incidentKey: `run-over-threshold:${base.workflowId}:run-1`, fix: [`npm run job -- rerun-failed '${base.workflowId}' --wait`] });
    expect(over.title).toBe('regenerate-reports: the scheduled run finished with 1 failed items');
    expect(runAlertFacts({ ...base, workflowType: 'regenerateReports', outcome: 'completed', summary }, { ...settings, failedItemsThreshold: 1 })).toBeNull();
    expect(runAlertFacts({ ...base, workflowType: 'regenerateReports', outcome: 'completed', summary: { ...summary, failures: [] } }, settings)).toBeNull();
  });

  it('quarantined records above ALERT_QUARANTINED_THRESHOLD alert, with the quarantine commands', () => {
    const summary = {
      source: 'shop', dryRun: false, window: null, cursor: null, daysRegenerated: 0, correctionEmailsSent: 0, regenerationFailures: [], cancelledRun: false,
      pages: 1, inserted: 10, updated: 0, unchanged: 0, cancelled: 0, quarantined: 6, skipped: 0, resolvedFromQuarantine: 0,
    };
    const facts = runAlertFacts({ ...base, workflowType: 'importOrders', outcome: 'completed', summary }, settings)!;
    expect(facts.title).toBe('import-orders: the scheduled run finished with 6 records quarantined');
    expect(facts.fix[0]).toBe('npm run job -- quarantine');
    expect(runAlertFacts({ ...base, workflowType: 'importOrders', outcome: 'completed', summary: { ...summary, quarantined: 5 } }, settings)).toBeNull();
  });

  it('every registered job counts its summary for the thresholds', () => {
    for (const job of JOBS) expect(typeof job.summary.counts, job.kind).toBe('function');
  });
});

describe('alert settings', () => {
  it('the embedded SMTP sink gets alerts by default; a real SMTP_URL without ALERT_EMAIL sends none; none turns them off', () => {
    const where = { temporalUiUrl: 'http://localhost:8233', namespace: 'default' };
    expect(alertSettings(loadConfig({}), where)).toMatchObject({ emails: [EMBEDDED_ALERT_EMAIL], adminUrl: 'http://127.0.0.1:3000', noWorkerMinutes: 5 });
    expect(alertSettings(loadConfig({ SMTP_URL: 'smtp://mail.example.com:25' }), where).emails).toEqual([]);
    expect(alertSettings(loadConfig({ ALERT_EMAIL: 'none' }), where).emails).toEqual([]);
    expect(alertSettings(loadConfig({ ALERT_EMAIL: 'ops@example.com, oncall@example.com', ALERT_ADMIN_URL: 'https://admin.example.com/' }), where))
      .toMatchObject({ emails: ['ops@example.com', 'oncall@example.com'], adminUrl: 'https://admin.example.com' });
  });

  it.each([
    ['ALERT_EMAIL', 'ops', 'ALERT_EMAIL: must be one or more email addresses separated by commas'],
    ['ALERT_WEBHOOK_URL', 'ftp://hooks.example.com/x', 'ALERT_WEBHOOK_URL: must be an http:// or https:// URL'],
    ['ALERT_FAILED_ITEMS_THRESHOLD', '-1', 'ALERT_FAILED_ITEMS_THRESHOLD: must be a whole number, 0 or more'],
    ['ALERT_QUARANTINED_THRESHOLD', 'many', 'ALERT_QUARANTINED_THRESHOLD: must be a whole number, 0 or more'],
    ['ALERT_NO_WORKER_MINUTES', '0', 'ALERT_NO_WORKER_MINUTES: must be a whole number of minutes from 1 to 1440'],
    ['ALERT_ADMIN_URL', 'admin.example.com', 'ALERT_ADMIN_URL: must be an http:// or https:// URL'],
  ])('%s=%s is refused, naming the setting and its rule', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('scrubs email addresses out of quoted failures and cuts long ones', () => {
    expect(scrubbedMessage('550 <ana.lopez@shop.example> unknown')).toBe('550 <[email address removed]> unknown');
    expect(scrubbedMessage('x'.repeat(20), 10)).toMatch(/^x{10}… \(cut/);
  });
});
