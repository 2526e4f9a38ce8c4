import nodemailer from 'nodemailer';
import { smtpServer } from '../mail-transport.js';
import { displayUrl, errorText, withTimeout, type CheckResult } from './check-result.js';

/**
 * The SMTP server answers, and accepts our login when the URL has one: nodemailer's
 * `verify()` (connect, EHLO, STARTTLS if offered, AUTH), on a connection of its own with
 * every wait bounded by `timeoutMs`. Sends nothing.
 */
export async function checkSmtp(smtpUrl: string, timeoutMs: number, fix: string): Promise<CheckResult> {
  const part = 'SMTP';
  const where = displayUrl(smtpUrl);
  const server = smtpServer(smtpUrl);
  const transport = nodemailer.createTransport({
    host: server.host, port: server.port, secure: server.secure, auth: server.auth,
    connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
  });
  try {
    await withTimeout(timeoutMs * 2, `SMTP at ${where}`, transport.verify());
    return { part, status: 'ok', detail: `${where} answered${server.auth ? `; login as ${server.auth.user} accepted` : ' (no login configured)'}` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EAUTH') {
      return { part, status: 'fail', detail: `${where} refused the login of ${server.auth?.user ?? 'nobody'} (${errorText(error)}); check the user and password in SMTP_URL` };
    }
    return { part, status: 'fail', detail: `${where} did not answer (${errorText(error)}); ${fix}` };
  } finally {
    transport.close();
  }
}
