import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { activeTracing } from './tracing.js';

/**
 * Wraps each `sendMail` of the transport in an `smtp send` span (client kind), child of the
 * span it is sent from (the email activity). There is no maintained OpenTelemetry
 * instrumentation for nodemailer, hence this one. Attributes name the server and count the
 * recipients; no address, subject or error text (an SMTP error may quote an address) ever
 * goes into a span. Returns the transport untouched when tracing is off.
 */
export function traceSmtpSends(transport: Transporter, smtpUrl: string): Transporter {
  if (!activeTracing()) return transport;
  const tracer = trace.getTracer('durable-jobs-smtp');
  const url = new URL(smtpUrl);
  const server = { 'server.address': url.hostname, 'server.port': Number(url.port) || (url.protocol === 'smtps:' ? 465 : 587) };
  const send = transport.sendMail.bind(transport) as (mail: Mail.Options) => Promise<{ accepted?: unknown[]; rejected?: unknown[] }>;
  const tracedSend = (mail: Mail.Options) =>
    tracer.startActiveSpan('smtp send', { kind: SpanKind.CLIENT, attributes: { ...server, 'email.recipient.count': recipientCount(mail) } }, async (span) => {
      try {
        const info = await send(mail);
        span.setAttribute('email.rejected.count', info.rejected?.length ?? 0);
        return info;
      } catch (error) {
        const { code, name } = error as { code?: string; name?: string };
        span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? name ?? 'send failed' });
        throw error;
      } finally {
        span.end();
      }
    });
  transport.sendMail = tracedSend as Transporter['sendMail'];
  return transport;
}

/** Recipients of the SMTP exchange: the explicit envelope's (a pre-built raw message has one), else the headers'. */
function recipientCount(mail: Mail.Options): number {
  const count = (field: Mail.Options['to'] | string[]) => (field === undefined ? 0 : Array.isArray(field) ? field.length : 1);
  const envelopeTo = (mail.envelope as { to?: string | string[] } | undefined)?.to;
  return envelopeTo !== undefined ? count(envelopeTo) : count(mail.to) + count(mail.cc) + count(mail.bcc);
}
