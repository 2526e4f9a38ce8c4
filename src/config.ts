import { z } from 'zod';
import { DEFAULTS, LIMITS, type RegenerateReportsInput } from './contracts.js';
import { parseTrustProxy, TRUST_PROXY_RULE } from './admin/trust-proxy.js';
import { PURGE_DEFAULTS, PURGE_LIMITS } from './purge-old-reports-contract.js';

/**
 * Every setting the project reads from the environment, parsed in one place.
 * Invalid settings are reported together, each with its variable name, so a
 * misconfigured deployment fails once with the full list instead of one by one.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A run-tuning setting: the same limit as the workflow input field it feeds, worded the same way. */
const withinLimit = (max: number) =>
  z.coerce
    .number({ error: `must be a whole number from 1 to ${max}` })
    .int(`must be a whole number from 1 to ${max}`)
    .min(1, `must be a whole number from 1 to ${max}`)
    .max(max, `must be a whole number from 1 to ${max}`);

/** The purge input's own rule for retentionDays, so a bad setting fails at start-up, not every run. */
const RETENTION_RULE = `must be a whole number of days from ${PURGE_LIMITS.minRetentionDays} to ${PURGE_LIMITS.maxRetentionDays}`;

const nonNegativeInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number, 0 or more' })
    .int('must be a whole number, 0 or more')
    .min(0, 'must be a whole number, 0 or more')
    .default(fallback);

const ALERT_EMAIL_ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
const ALERT_EMAIL_RULE = 'must be one or more email addresses separated by commas (ops@example.com,oncall@example.com), or none';

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

const envSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM: z.string().min(3).default('Daily reports <reports@durable-jobs.local>'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('reports'),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_POSTGRES_PORT: positiveInt(54329),
  SMTP_SINK_PORT: positiveInt(2525),
  /** The shop's orders API (the import job's source). Unset: the embedded shop API (src/dev/shop-api.ts) on SHOP_API_PORT. */
  ORDERS_API_URL: z.string().url().optional(),
  /** Its bearer key; required with ORDERS_API_URL. Unset: the embedded shop's fixed local key. */
  ORDERS_API_KEY: z.string().min(1).optional(),
  SHOP_API_PORT: positiveInt(4010),
  /**
   * Requests a second the importer makes to the orders API, at most. One import of a source
   * runs at a time (a PostgreSQL advisory lock), so this one importer's pace is the total.
   */
  ORDERS_API_MAX_REQUESTS_PER_SECOND: positiveInt(20),
  /** How far before the committed cursor an incremental import starts reading: a source may commit changes late, with an older updated_at. */
  ORDERS_IMPORT_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  // Every run `npm start`, the schedules and `npm run job` start gets these: checked here
  // against the workflow input's own limits, so a bad value fails at start-up, not every run.
  REPORT_BATCH_SIZE: withinLimit(LIMITS.maxBatchSize).default(DEFAULTS.batchSize),
  REPORT_PARALLELISM: withinLimit(LIMITS.maxParallelism).default(DEFAULTS.parallelism),
  /** Unset: the input's default, which shrinks for large batches (see resolveRegenerateInput). */
  REPORT_BATCHES_PER_ACTIVITY: withinLimit(LIMITS.maxBatchesPerActivity).optional(),
  /** Days of reports and email records the purge-old-reports job keeps (its runs and its weekly schedule). */
  REPORT_RETENTION_DAYS: z.coerce
    .number({ error: RETENTION_RULE })
    .int(RETENTION_RULE)
    .min(PURGE_LIMITS.minRetentionDays, RETENTION_RULE)
    .max(PURGE_LIMITS.maxRetentionDays, RETENTION_RULE)
    .default(PURGE_DEFAULTS.retentionDays),
  WORKER_MAX_ACTIVITIES: positiveInt(8),
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt(100),
  /**
   * Workflow tasks one worker works on at once; unset: the SDK's default, 40. A run's first task
   * runs local activities (its planning SQL) on the worker's one workflow thread; a worker that
   * takes more tasks than it finishes within the 10 s workflow task timeout gets them timed out
   * and handed out again, and makes no progress: 1,000 single-customer runs started at once on 3
   * workers and 2 busy cores stalled at 271 done with 40, and drained at ~9 runs/s with 4
   * (BENCHMARKS.md, the cluster). npm run cluster gives its workers 4. Not the default yet: at 4
   * or 8, a run started over the worker's own connection no longer starts eagerly
   * (test/temporal/small-runs.test.ts). Tasks beyond it wait in the task queue, where no timeout runs.
   */
  WORKER_MAX_WORKFLOW_TASKS: z.coerce
    .number({ error: 'must be a whole number from 2 to 1000' })
    .int('must be a whole number from 2 to 1000')
    .min(2, 'must be a whole number from 2 to 1000 (the SDK needs 2 for its sticky queue)')
    .max(1000, 'must be a whole number from 2 to 1000')
    .optional(),
  SMTP_MAX_CONNECTIONS: positiveInt(8),
  // Admin page (npm run admin, npm start).
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Signs the admin page's CSRF cookie; unset: a random secret per process (forms break on restart). */
  ADMIN_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  ADMIN_SESSION_HOURS: positiveInt(12),
  /** auto: Secure cookies when the request came over https (see ADMIN_TRUST_PROXY). */
  ADMIN_COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  /** Which X-Forwarded-* to believe (https detection, client address for rate limits): false, a hop count, or proxy addresses/CIDRs. */
  ADMIN_TRUST_PROXY: z.string().default('false').transform((value, ctx) => parseTrustProxy(value) ?? (ctx.addIssue({ code: 'custom', message: `got '${value}': ${TRUST_PROXY_RULE}` }), z.NEVER)),
  ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: positiveInt(10),
  /** Failed sign-ins per account (email, whatever the client address) per 15 minutes. */
  ADMIN_SIGN_IN_ATTEMPTS_PER_ACCOUNT: positiveInt(10),
  // Alerts (README, "Alerts"): where they go, and when a scheduled run's counts or a quiet task queue make one.
  /** Operators' addresses, comma-separated, or `none`. Unset: alerts@durable-jobs.local in the embedded SMTP sink; with SMTP_URL, no email. */
  ALERT_EMAIL: z
    .string()
    .refine((value) => value === 'none' || value.split(',').every((address) => ALERT_EMAIL_ADDRESS.test(address.trim())), ALERT_EMAIL_RULE)
    .optional(),
  /** A JSON POST per alert (with an Idempotency-Key header). The URL may hold a token: it is never logged. */
  ALERT_WEBHOOK_URL: z
    .string()
    .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL')
    .optional(),
  /** A scheduled run that finishes with more failed items (customers, days) than this raises an alert. */
  ALERT_FAILED_ITEMS_THRESHOLD: nonNegativeInt(0),
  /** A scheduled run that quarantines more order records than this raises an alert. */
  ALERT_QUARANTINED_THRESHOLD: nonNegativeInt(0),
  /** Minutes without any worker polling the task queue before the monitor alerts. */
  ALERT_NO_WORKER_MINUTES: z.coerce
    .number({ error: 'must be a whole number of minutes from 1 to 1440' })
    .int('must be a whole number of minutes from 1 to 1440')
    .min(1, 'must be a whole number of minutes from 1 to 1440')
    .max(1440, 'must be a whole number of minutes from 1 to 1440')
    .default(5),
  /** The admin page as operators reach it, for the links in alerts. Unset: http://ADMIN_HOST:ADMIN_PORT. */
  ALERT_ADMIN_URL: z
    .string()
    .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL')
    .optional(),
  DAILY_REPORTS_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day written HH:MM (24-hour)')
    .default('02:00'),
  /** Gone: each customer's report is due at DAILY_REPORTS_AT in the customer's own zone. Refused, so an old setting is not silently ignored. */
  DAILY_REPORTS_TIME_ZONE: z
    .string()
    .refine(() => false, "is no longer used: every customer's report is made at DAILY_REPORTS_AT in the customer's own time zone; remove it")
    .optional(),
  /**
   * The worker's Prometheus endpoint (`/metrics`: the Temporal runtime's series and every job's).
   * 0: none. Each process serving it needs its own port: a second worker on one machine sets its own.
   */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number({ error: 'must be a port number from 1 to 65535, or 0 for no metrics endpoint' }).int().min(0).max(65535, 'must be a port number from 1 to 65535, or 0 for no metrics endpoint').default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag(false),
});

const settingsSchema = envSchema.superRefine((settings, ctx) => {
  const perActivity = settings.REPORT_BATCHES_PER_ACTIVITY;
  if (perActivity !== undefined && settings.REPORT_BATCH_SIZE * perActivity > LIMITS.maxCustomersPerActivity) {
    ctx.addIssue({
      code: 'custom',
      path: ['REPORT_BATCHES_PER_ACTIVITY'],
      message:
        `REPORT_BATCH_SIZE × REPORT_BATCHES_PER_ACTIVITY is ${settings.REPORT_BATCH_SIZE * perActivity} customers per activity; ` +
        `the maximum is ${LIMITS.maxCustomersPerActivity} (lower one of them, or unset REPORT_BATCHES_PER_ACTIVITY for the default)`,
    });
  }
  if (settings.ORDERS_API_URL !== undefined && settings.ORDERS_API_KEY === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ORDERS_API_KEY'], message: "is required when ORDERS_API_URL is set (the shop's API key, sent as Authorization: Bearer <key>)" });
  }
});

export type Config = z.infer<typeof envSchema>;

/** The run-tuning part of the workflow input that the settings give every run we start. */
export function reportTuning(
  config: Pick<Config, 'REPORT_BATCH_SIZE' | 'REPORT_PARALLELISM' | 'REPORT_BATCHES_PER_ACTIVITY'>,
): Pick<RegenerateReportsInput, 'batchSize' | 'parallelism' | 'batchesPerActivity'> {
  return {
    batchSize: config.REPORT_BATCH_SIZE,
    parallelism: config.REPORT_PARALLELISM,
    ...(config.REPORT_BATCHES_PER_ACTIVITY !== undefined ? { batchesPerActivity: config.REPORT_BATCHES_PER_ACTIVITY } : {}),
  };
}


export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset: `FOO= npm start` should mean "use the default".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment settings (see .env.example):\n${lines.join('\n')}`);
  }
  return parsed.data;
}
