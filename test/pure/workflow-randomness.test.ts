import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ensureWorkflowBundle } from '../../src/workflow-bundle.js';

/**
 * A worker that traces draws span ids from a run's seeded random numbers, one that does not
 * draws none (src/workflow-bundle.ts), and a run may move between them. So no workflow code of
 * ours may use those numbers: not Math.random, not uuid4 (nor a child started without its own
 * workflowId, for which the SDK calls uuid4). This reads every source file of ours that the
 * workflow bundle holds.
 */
it('no workflow code of ours draws random numbers, and every child run is given its workflowId', async () => {
  const bundle = fs.readFileSync(await ensureWorkflowBundle('traced'), 'utf8');
  const files = [...new Set([...bundle.matchAll(/\n\/\*\*\*\/ "\.\/(src\/[^"]+)"/g)].map((match) => match[1]!))];
  expect(files).toEqual(expect.arrayContaining(['src/workflows/index.ts', 'src/workflows/daily-reports.ts', 'src/workflows/import-orders.ts']));
  const problems: string[] = [];
  for (const file of files) {
    // Code only: comments may name what is banned.
    const source = fs.readFileSync(path.resolve(file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const banned: Array<[string, RegExp]> = [
      ['Math.random', /\bMath\s*(\.|\[)\s*['"]?random|\{[^}]*\brandom\b[^}]*\}\s*=\s*Math\b/],
      ['uuid4', /\buuid4\b/],
      ['workflowRandom', /\bworkflowRandom\b|\bgetRandomStream\b/],
      ['crypto', /\brandomUUID\b|\bcrypto\./],
    ];
    for (const [name, pattern] of banned) if (pattern.test(source)) problems.push(`${file}: ${name}`);
    for (const call of source.matchAll(/\b(executeChild|startChild)\s*(<[^()]*>)?\s*\(/g)) {
      // The options object follows the workflow argument; its workflowId must be set by us (read
      // from the call's first 300 characters: a heuristic, kept simple on purpose).
      if (!/workflowId[,:\s]/.test(source.slice(call.index, call.index + 300))) problems.push(`${file}: ${call[1]} without workflowId`);
    }
  }
  expect(problems).toEqual([]);
});
