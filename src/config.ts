import { z } from 'zod';
import { DEFAULTS } from './contracts.js';
import { isTimeZone } from './dates.js';

/**
 * Every setting the project reads from the environment, parsed in one place.
 * Invalid settings are reported together, each with its variable name, so a
 * misconfigured deployment fails once with the full list instead of one by one.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
  REPORT_BATCH_SIZE: positiveInt(DEFAULTS.batchSize),
  REPORT_PARALLELISM: positiveInt(DEFAULTS.parallelism),
  WORKER_MAX_ACTIVITIES: positiveInt(8),
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt(100),
  SMTP_MAX_CONNECTIONS: positiveInt(8),
  // Admin page (npm run admin, npm start).
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Signs the admin page's CSRF cookie; unset: a random secret per process (forms break on restart). */
  ADMIN_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  ADMIN_SESSION_HOURS: positiveInt(12),
  /** auto: Secure cookies when the request came over https (see ADMIN_TRUST_PROXY). */
  ADMIN_COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  /** Trust X-Forwarded-* from a reverse proxy (https detection, client address for rate limits). */
  ADMIN_TRUST_PROXY: booleanFlag(false),
  ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: positiveInt(10),
  DAILY_REPORTS_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day written HH:MM (24-hour)')
    .default('02:00'),
  DAILY_REPORTS_TIME_ZONE: z
    .string()
    .refine((zone) => isTimeZone(zone), 'must be an IANA time zone such as UTC or Europe/Berlin')
    .default('UTC'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag(false),
});

export type Config = z.infer<typeof envSchema>;


export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset: `FOO= npm start` should mean "use the default".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment settings (see .env.example):\n${lines.join('\n')}`);
  }
  return parsed.data;
}
