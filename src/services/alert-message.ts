import crypto from 'node:crypto';

export type AlertKind = 'run-failed' | 'run-over-threshold' | 'schedule-missed-catchup' | 'no-worker';

/**
 * Everything an alert says, as data: stored with the alert (alerts.facts) and rendered when it
 * is sent, the same for the email and the webhook. Only what an operator needs: job, run and
 * schedule ids, counts, the failure's message; never a customer's name or email address.
 */
export interface AlertFacts {
  /** What makes two sightings one incident (see Alerts.raise); one alert per key. */
  incidentKey: string;
  kind: AlertKind;
  /** The registry's job kind, when the alert is about a job's run or schedule. */
  job: string | null;
  /** One line: "daily-reports: the scheduled run failed". */
  title: string;
  /** When it happened (ISO-8601, UTC). */
  happenedAt: string;
  /** What happened, a few lines (run id, schedule, failure, counts). */
  what: string[];
  links: Array<{ label: string; url: string }>;
  /** What to do, each a step or an exact command. */
  fix: string[];
}

export interface RenderedAlert {
  subject: string;
  text: string;
  /** The webhook's body. */
  json: Record<string, unknown>;
  /** Stable per incident: a redelivery carries the same Message-ID and Idempotency-Key. */
  messageId: string;
  idempotencyKey: string;
}

/** "2026-11-05 02:00:13 UTC" beside the ISO form: people read the first, tools the second. */
function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC (${iso})`;
}

const incidentHash = (incidentKey: string) => crypto.createHash('sha256').update(incidentKey).digest('hex');

/** The Idempotency-Key header (and X-Alert-Incident) of an incident's alert: header-safe, whatever its workflow id holds. */
export function alertIdempotencyKey(incidentKey: string): string {
  return `alert-${incidentHash(incidentKey).slice(0, 40)}`;
}

export function renderAlert(facts: AlertFacts): RenderedAlert {
  const hash = incidentHash(facts.incidentKey);
  const lines = [
    facts.title,
    '',
    `When: ${when(facts.happenedAt)}`,
    ...(facts.job ? [`Job: ${facts.job}`] : []),
    ...facts.what,
    '',
    ...(facts.links.length > 0 ? [...facts.links.map((link) => `${link.label}: ${link.url}`), ''] : []),
    'What to do:',
    ...facts.fix.map((step) => `  ${step}`),
    '',
    `Incident: ${facts.incidentKey} (alerted once per incident)`,
  ];
  return {
    subject: `[durable-jobs alert] ${facts.title}`,
    text: `${lines.join('\n')}\n`,
    json: {
      incidentKey: facts.incidentKey,
      kind: facts.kind,
      job: facts.job,
      title: facts.title,
      happenedAt: facts.happenedAt,
      what: facts.what,
      links: facts.links,
      fix: facts.fix,
    },
    messageId: `<alert.${hash.slice(0, 32)}@durable-jobs>`,
    idempotencyKey: alertIdempotencyKey(facts.incidentKey),
  };
}

const EMAIL_ADDRESS = /[^\s<>()"',;:]+@[^\s<>()"',;:]+\.[A-Za-z]{2,}/g;

/**
 * A failure's message as an alert may quote it: email addresses blanked (a message from a
 * service or an SMTP server could name one; alerts carry no personal data) and cut to a length
 * a mail client shows.
 */
export function scrubbedMessage(message: string, maxLength = 1500): string {
  const scrubbed = message.replace(EMAIL_ADDRESS, '[email address removed]');
  return scrubbed.length > maxLength ? `${scrubbed.slice(0, maxLength)}… (cut; the full text is in the run's history)` : scrubbed;
}
