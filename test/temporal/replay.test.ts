import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { ensureWorkflowBundle, type BundleKind } from '../../src/workflow-bundle.js';
// The tracing workflow interceptors hand their spans to a sink: a replay worker without one logs an error per span.
import { workflowSpanSinks } from '../../src/observability/temporal-tracing.js';

// Histories recorded from earlier releases' workflow code, with
// `temporal workflow show -w <id> [-r <run>] -o json > test/fixtures/histories/<release>-<what>.json`.
// A deploy must replay every run that may still be in flight; a change that would not is a
// determinism violation here, and needs `patched()` before it ships.
const HISTORIES = path.resolve('test/fixtures/histories');

// Every history on both bundles (src/workflow-bundle.ts): a run may move between a worker that
// traces and one that does not. The histories before v0.4 were recorded without OpenTelemetry's
// workflow interceptors, v0.4 and the pre-alerts ones with them.
describe.each<BundleKind>(['traced', 'untraced'])('workflow code (%s bundle) replays the histories of runs started by earlier releases', (kind) => {
  const files = fs.readdirSync(HISTORIES).filter((file) => file.endsWith('.json')).sort();

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(file, async () => {
      const history = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: await ensureWorkflowBundle(kind) }, sinks: workflowSpanSinks() }, history, file),
      ).resolves.toBeUndefined();
    });
  }
});

// v0.2 runs whose first task was split after the planning local activity: no code can replay
// them (README, "reset"). If an SDK upgrade makes one replay, the README's advice is stale.
describe('v0.2 runs split after planning still need a reset', () => {
  const dir = path.resolve('test/fixtures/histories-unreplayable');
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort()) {
    it(file, async () => {
      const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: await ensureWorkflowBundle('traced') }, sinks: workflowSpanSinks() }, history, file),
      ).rejects.toThrow(/Non-deprecated patch marker encountered for change several-batches-per-activity/);
    });
  }
});
