import fs from 'node:fs';
import path from 'node:path';

export interface StoredAlert {
  file: string;
  messageId: string;
  /** X-Alert-Incident: the incident's idempotency key (the same on every delivery of one incident). */
  incident: string;
  kind: string;
  to: string;
  subject: string;
  /** The plain-text body, decoded. */
  text: string;
}

/** The alert emails in an SMTP sink's directory (reports and corrections left out), oldest first. */
export function readAlertMail(dir: string): StoredAlert[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.eml'))
    .sort((a, b) => Number(/\.(\d+)-\d+\.eml$/.exec(a)?.[1]) - Number(/\.(\d+)-\d+\.eml$/.exec(b)?.[1]))
    .map((file) => {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
      const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
      const body = raw.slice(split + 4);
      const text = /quoted-printable/i.test(header('Content-Transfer-Encoding'))
        ? Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8')
        : body;
      return { file, messageId: header('Message-ID'), incident: header('X-Alert-Incident'), kind: header('X-Alert-Kind'), to: header('To'), subject: header('Subject'), text };
    })
    .filter((message) => message.incident !== '');
}
