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
  return readSinkFiles(dir)
    .map(({ file, header }) => ({
      file,
      messageId: header('Message-ID'),
      to: header('To'),
      customerId: Number(header('X-Report-Customer')),
      period: header('X-Report-Period'),
      final: header('X-Report-Final') !== 'no',
      subject: header('Subject'),
      correction: header('X-Report-Correction'),
    }))
    .sort((a, b) => a.customerId - b.customerId);
}

/** One stored .eml: its file name, a header by name (folded lines unfolded), and its raw body. */
export interface SinkFile {
  file: string;
  header(name: string): string;
  body: string;
}

/** The SMTP sink's .eml files, in directory order, each with its headers readable by name. */
export function readSinkFiles(dir: string): SinkFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.eml'))
    .map((file) => {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8');
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
      const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
      return { file, header, body: raw.slice(split + 4) };
    });
}

/** How many messages the SMTP sink has stored so far (cheap: file names only). */
export function countMailbox(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).filter((file) => file.endsWith('.eml')).length;
}
