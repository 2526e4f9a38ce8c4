import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { AdminSessions } from '../services/admin-sessions.js';
import type { AdminUsers } from '../services/admin-users.js';
import type { HealthTargets } from '../health/health-targets.js';
import type { AuditLog } from '../services/audit-log.js';
import type { CustomerDirectory } from '../services/customer-directory.js';
import type { CustomerSelection } from '../services/customer-selection.js';
import type { OrderImport } from '../services/order-import.js';
import type { ReportRows } from '../services/report-rows.js';
import { cookieSecure, type CookieSecureSetting } from './auth.js';
import type { RunTarget } from './run-history.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import type { TrustProxySetting } from './trust-proxy.js';
import type { SafeHtml } from './views/html.js';

export interface AdminSettings {
  /** Signs the CSRF secret cookie. */
  sessionSecret: string;
  sessionHours: number;
  cookieSecure: CookieSecureSetting;
  /** Which X-Forwarded-* headers to believe (ADMIN_TRUST_PROXY). */
  trustProxy: TrustProxySetting;
  /** Sign-in attempts per client address per minute. */
  signInAttemptsPerMinute: number;
  /** Failed sign-ins per account (email) per 15 minutes, from any address. */
  signInAttemptsPerAccount: number;
}

/** What the route handlers use: the services (built once by the server) and the Temporal target. */
export interface AdminContext {
  users: AdminUsers;
  sessions: AdminSessions;
  audit: AuditLog;
  signInThrottle: SignInThrottle;
  directory: CustomerDirectory;
  selection: CustomerSelection;
  reportRows: ReportRows;
  /** The import's quarantine (listQuarantined), for the quarantine page. */
  orderImport: OrderImport;
  temporal: RunTarget;
  /** What the status page checks (the same as npm run doctor). */
  health: HealthTargets;
  /** The deployment's settings, for each job's `defaultsFromConfig` (REPORT_RETENTION_DAYS…). */
  config: Config;
  settings: AdminSettings;
  now: () => Date;
}

export function sendHtml(reply: FastifyReply, page: SafeHtml): FastifyReply {
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.value);
}

/** A CSRF token for a form on this page (its secret goes to a signed, http-only cookie). */
export function csrfToken(request: FastifyRequest, reply: FastifyReply, settings: AdminSettings): string {
  return reply.generateCsrf({ path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: cookieSecure(request, settings.cookieSecure) });
}

/** Form fields as single strings: a repeated or missing field is ''. */
export function formField(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

export function queryField(query: unknown, name: string): string {
  return formField(query, name);
}
