import fs from 'node:fs';
import path from 'node:path';

export interface StoredMessage {
  file: string;
  messageId: string;
  to: string;
  customerId: number;
  period: string;
  /** False for a report made before one of its days ended where the customer is ("so far"). */
  final: boolean;
  subject: string;
  /** A correction's revision (X-Report-Correction); '' for a report. */
  correction: string;
}

/** Reads the SMTP sink's .eml files: what a receiver actually got, independent of our tables. */
export function readMailbox(dir: string): StoredMessage[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.eml'))
    .map((file) => {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
      const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
      return {
        file,
        messageId: header('Message-ID'),
        to: header('To'),
        customerId: Number(header('X-Report-Customer')),
        period: header('X-Report-Period'),
        final: header('X-Report-Final') !== 'no',
        subject: header('Subject'),
        correction: header('X-Report-Correction'),
      };
    })
    .sort((a, b) => a.customerId - b.customerId);
}

/** How many messages the SMTP sink has stored so far (cheap: file names only). */
export function countMailbox(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).filter((file) => file.endsWith('.eml')).length;
}
