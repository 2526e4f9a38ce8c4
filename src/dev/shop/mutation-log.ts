import fs from 'node:fs';

/** One change to the shop's data, as appended to its log; `at` is the order's new updated_at (ms). */
export type Mutation =
  | { op: 'add'; at: number; id: number; customerId: number; currency: string; amountCents: number; sku: string; createdAt: number }
  | { op: 'correct-amount'; at: number; id: number; amountCents: number }
  | { op: 'cancel'; at: number; id: number };

/**
 * The changes made since the data set was generated, one JSON object a line. Appended
 * synchronously before a change is acknowledged, so an acknowledged change survives a crash;
 * a last line cut short by one (no newline yet) is dropped from the file before replaying, so
 * the next change does not land on the same line.
 */
export function readMutations(file: string): Mutation[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const completeLength = text.lastIndexOf('\n') + 1;
  if (completeLength < text.length) fs.truncateSync(file, Buffer.byteLength(text.slice(0, completeLength)));
  const complete = text.slice(0, completeLength).split('\n').slice(0, -1);
  return complete.map((line, number) => {
    try {
      return JSON.parse(line) as Mutation;
    } catch {
      throw new Error(`${file} line ${number + 1} is not JSON; the shop cannot replay its changes (delete the directory to start from the generated data)`);
    }
  });
}

export function appendMutation(file: string, mutation: Mutation): void {
  fs.appendFileSync(file, `${JSON.stringify(mutation)}\n`);
}
