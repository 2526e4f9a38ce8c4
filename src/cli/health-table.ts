import type { CheckStatus, HealthReport } from '../health/check-result.js';

const STATUS_TEXT: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skipped: 'skip' };

/** `npm run doctor`'s table: part, status, detail; then one line saying whether everything is ready. */
export function healthTable(report: HealthReport): string[] {
  const width = Math.max(4, ...report.checks.map((check) => check.part.length));
  const rows = report.checks.map((check) => `${check.part.padEnd(width)}  ${STATUS_TEXT[check.status].padEnd(6)}  ${check.detail}`);
  const failed = report.checks.filter((check) => check.status === 'fail');
  const warned = report.checks.filter((check) => check.status === 'warn');
  const warnings = warned.length > 0 ? `; ${warned.length} warning${warned.length === 1 ? '' : 's'} (${warned.map((check) => check.part).join(', ')})` : '';
  const verdict = failed.length === 0
    ? `ready: all ${report.checks.length} checks passed${warnings}`
    : `NOT READY: ${failed.length} of ${report.checks.length} checks failed (${failed.map((check) => check.part).join(', ')})${warnings}`;
  return [`${'PART'.padEnd(width)}  STATUS  DETAIL`, ...rows, '', verdict];
}
