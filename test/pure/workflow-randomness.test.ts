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
    for (const banned of ['Math.random', 'uuid4', 'randomUUID', 'crypto.']) if (source.includes(banned)) problems.push(`${file}: ${banned}`);
    for (const call of source.matchAll(/\b(executeChild|startChild)\(/g)) {
      // The options object follows the workflow argument; its workflowId must be set by us.
      if (!/workflowId[,:\s]/.test(source.slice(call.index, call.index + 300))) problems.push(`${file}: ${call[1]} without workflowId`);
    }
  }
  expect(problems).toEqual([]);
});
