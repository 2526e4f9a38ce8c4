import { z } from 'zod';

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
  REPORT_BATCH_SIZE: positiveInt(500),
  REPORT_PARALLELISM: positiveInt(2),
  REPORT_MAX_RANGE_DAYS: positiveInt(366),
  REPORT_MAX_CUSTOMER_IDS: positiveInt(1000),
  WORKER_MAX_ACTIVITIES: positiveInt(8),
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
