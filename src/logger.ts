import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

// Connection strings and keys must never reach a log line, whatever object a caller passes.
const redact = ['*.password', '*.databaseUrl', '*.smtpUrl', '*.apiKey', 'DATABASE_URL', 'SMTP_URL', 'TEMPORAL_API_KEY'];

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY'>, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact,
    transport: config.LOG_PRETTY ? { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } : undefined,
  });
}
