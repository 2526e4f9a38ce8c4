import { readSinkFiles } from './mailbox.js';

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
  return readSinkFiles(dir)
    .sort((a, b) => Number(/\.(\d+)-\d+\.eml$/.exec(a.file)?.[1]) - Number(/\.(\d+)-\d+\.eml$/.exec(b.file)?.[1]))
    .map(({ file, header, body }) => {
      const text = /quoted-printable/i.test(header('Content-Transfer-Encoding'))
        ? Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8')
        : body;
      return { file, messageId: header('Message-ID'), incident: header('X-Alert-Incident'), kind: header('X-Alert-Kind'), to: header('To'), subject: header('Subject'), text };
    })
    .filter((message) => message.incident !== '');
}
