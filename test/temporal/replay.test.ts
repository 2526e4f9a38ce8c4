import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { ensureWorkflowBundle } from '../../src/workflow-bundle.js';

// Histories recorded from earlier releases' workflow code, with
// `temporal workflow show -w <id> [-r <run>] -o json > test/fixtures/histories/<release>-<what>.json`.
// A deploy must replay every run that may still be in flight; a change that would not is a
// determinism violation here, and needs `patched()` before it ships.
const HISTORIES = path.resolve('test/fixtures/histories');

describe('workflow code replays the histories of runs started by earlier releases', () => {
  const files = fs.readdirSync(HISTORIES).filter((file) => file.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(file, async () => {
      const history = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: await ensureWorkflowBundle() } }, history, file),
      ).resolves.toBeUndefined();
    });
  }
});
