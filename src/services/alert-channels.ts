import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import type { RenderedAlert } from './alert-message.js';

export type ChannelName = 'email' | 'webhook';

/** Sent (accepted), or refused for good (never tried again). A transient failure throws. */
export type SendOutcome = 'sent' | { refused: string };

/** A way alerts reach operators. `send` must settle within `timeoutMs`: the claim's lease counts on it. */
export interface AlertChannel {
  readonly name: ChannelName;
  send(alert: RenderedAlert, timeoutMs: number): Promise<SendOutcome>;
}

/** A transient failure (connection refused, timeout, 4xx from SMTP, 5xx from the webhook): the delivery is tried again. */
export class AlertSendError extends Error {
  override name = 'AlertSendError';
}

/**
 * Alert email over the configured SMTP server (SMTP_URL), one connection per alert: alerts are
 * rare, and a connection of its own can be cut at the deadline, so a send never outlives the
 * claim that allowed it (nodemailer's pool offers no way to abort one message).
 */
export class EmailAlertChannel implements AlertChannel {
  readonly name = 'email';
  private readonly envelopeFrom: string;

  constructor(
    private readonly smtpUrl: string,
    from: string,
    private readonly to: string[],
  ) {
    const [sender] = addressparser(from, { flatten: true });
    if (!sender?.address) throw new Error(`MAIL_FROM must name an email address, got '${from}'`);
    this.envelopeFrom = sender.address;
  }

  /** MAIL_FROM's address under a name of its own, so alerts stand out from the reports in an inbox. */
  private get fromHeader() {
    return { name: 'durable-jobs alerts', address: this.envelopeFrom };
  }

  async send(alert: RenderedAlert, timeoutMs: number): Promise<SendOutcome> {
    const raw = await new MailComposer({
      from: this.fromHeader,
      to: this.to,
      subject: alert.subject,
      text: alert.text,
      messageId: alert.messageId,
      headers: { 'X-Alert-Incident': alert.idempotencyKey, 'X-Alert-Kind': String(alert.json.kind) },
    }).compile().build();
    const url = new URL(this.smtpUrl);
    const secure = url.protocol === 'smtps:';
    const connection = new SMTPConnection({
      host: url.hostname,
      port: Number(url.port) || (secure ? 465 : 587),
      secure,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    const auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connection.close(); // destroys the socket: nothing more goes out under this claim
        reject(new AlertSendError(`the SMTP server did not accept the alert within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    // A socket error after the deadline (the closed connection) must not surface as unhandled.
    connection.on('error', () => undefined);
    try {
      return await Promise.race([this.exchange(connection, raw, auth), deadline]);
    } finally {
      clearTimeout(timer);
      connection.close();
    }
  }

  private async exchange(connection: SMTPConnection, raw: Buffer, auth: { user: string; pass: string } | undefined): Promise<SendOutcome> {
    const step = <T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void) =>
      new Promise<T>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T))));
    try {
      await step<void>((done) => connection.connect((error) => done(error)));
      if (auth) await step<void>((done) => connection.login(auth, (error) => done(error)));
      await step((done) => connection.send({ from: this.envelopeFrom, to: this.to }, raw, (error, info) => done(error, info)));
      connection.quit();
      return 'sent';
    } catch (error) {
      // A permanent rejection (5xx) of the message is final; a failed login is configuration,
      // and anything else (4xx, a lost connection) is tried again.
      const { responseCode: code, code: kind } = error as { responseCode?: number; code?: string };
      if (kind !== 'EAUTH' && code !== undefined && code >= 500 && code < 600) return { refused: `the SMTP server refused the alert (${code})` };
      throw new AlertSendError(`sending the alert email failed: ${(error as Error).message}`);
    }
  }
}

/**
 * Alert as a JSON POST to ALERT_WEBHOOK_URL, with an `Idempotency-Key` header that is the same
 * for every delivery of one incident: if our process dies after the receiver accepted but
 * before we recorded it, the alert is posted again with the same key (at least once; the key
 * lets the receiver drop the repeat). 2xx is accepted; 408, 429 and 5xx are tried again; any
 * other answer is a refusal (a wrong URL or token does not get better by repeating).
 */
export class WebhookAlertChannel implements AlertChannel {
  readonly name = 'webhook';

  constructor(private readonly url: string) {}

  async send(alert: RenderedAlert, timeoutMs: number): Promise<SendOutcome> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': alert.idempotencyKey, 'user-agent': 'durable-jobs-alerts' },
        body: JSON.stringify({ ...alert.json, text: alert.text }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      // The URL can hold a token: the message names the host only.
      throw new AlertSendError(`posting the alert to the webhook at ${new URL(this.url).host} failed: ${(error as Error).cause ?? (error as Error).message}`);
    }
    await response.arrayBuffer().catch(() => undefined); // the body is not ours to read, but the connection must be freed
    if (response.ok) return 'sent';
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      throw new AlertSendError(`the webhook at ${new URL(this.url).host} answered ${response.status}; trying again`);
    }
    return { refused: `the webhook at ${new URL(this.url).host} refused the alert (${response.status})` };
  }
}
