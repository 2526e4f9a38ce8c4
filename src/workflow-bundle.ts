import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

// Run from TypeScript (tsx: src/ → dist/) or from the compiled build (node: build/src/ → build/dist/):
// either way the bundle is made from, and stamped with, the sources next to this module.
const SOURCE_EXT = path.extname(fileURLToPath(import.meta.url)); // '.ts' or '.js'
export const WORKFLOWS_PATH = fileURLToPath(new URL(`./workflows/index${SOURCE_EXT}`, import.meta.url));
const SRC_DIR = fileURLToPath(new URL('.', import.meta.url));
const BUNDLE_DIR = path.resolve(SRC_DIR, '..', 'dist');

/**
 * Workflow interceptor modules compiled into the bundle (a pre-built bundle ignores the
 * worker's `interceptors.workflowModules`): each module exports `interceptors()`, and every
 * registered job gets them alike. Paths are resolved next to this module, like the workflows.
 */
const interceptorModule = (name: string) => fileURLToPath(new URL(`./${name}${SOURCE_EXT}`, import.meta.url));
const RUN_METRICS = interceptorModule('workflows/interceptors/run-metrics');
// Alerts: a scheduled run that fails or finishes over a threshold tells the alert activity (README, "Alerts").
const RUN_ALERTS = interceptorModule('workflows/interceptors/run-alerts');
// OpenTelemetry: a span per run and per activity it starts (src/observability/workflow-interceptors.ts).
export const TRACING_INTERCEPTOR_MODULE = interceptorModule('observability/workflow-interceptors');

/**
 * Two bundles, the same workflows in both: `traced` adds the OpenTelemetry interceptors, for
 * a worker whose OTEL_* settings turn tracing on; `untraced` leaves them out, for every other
 * worker. The sandbox evaluates a bundle's modules again for every run it creates (a new run,
 * a continue-as-new, a run rebuilt after eviction), and OpenTelemetry's take ~6.5 of its
 * ~25 ms (BENCHMARKS.md, "Small runs"). A run may move between the two kinds of worker: the
 * interceptors add headers and spans but no command, and no yield on the SDK versions that
 * record theirs (1.13.2+); test/temporal/replay.test.ts replays every recorded history on both.
 */
export type BundleKind = 'traced' | 'untraced';

export const WORKFLOW_INTERCEPTOR_MODULES: Record<BundleKind, string[]> = {
  traced: [RUN_METRICS, TRACING_INTERCEPTOR_MODULE, RUN_ALERTS],
  untraced: [RUN_METRICS, RUN_ALERTS],
};

const bundleFile = (kind: BundleKind) => path.join(BUNDLE_DIR, kind === 'traced' ? 'workflow-bundle.js' : 'workflow-bundle-untraced.js');
const stampFile = (kind: BundleKind) => bundleFile(kind).replace(/\.js$/, '.sha256');

/** Hash of every source file a workflow could import, so a stale bundle is never loaded. */
function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(SOURCE_EXT)) hash.update(path.relative(SRC_DIR, full)).update(fs.readFileSync(full));
    }
  };
  walk(SRC_DIR);
  return hash.digest('hex');
}

/** Bundles the workflows into dist/ (webpack takes seconds; workers then start in well under one). */
export async function buildWorkflowBundle(kind: BundleKind = 'traced'): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES[kind], logger: new DefaultLogger('WARN') });
  fs.mkdirSync(BUNDLE_DIR, { recursive: true });
  fs.writeFileSync(bundleFile(kind), code);
  fs.writeFileSync(stampFile(kind), sourceHash());
  return bundleFile(kind);
}

/** The pre-built bundle of this kind if it matches the sources, else a fresh one. */
export async function ensureWorkflowBundle(kind: BundleKind = 'traced'): Promise<string> {
  const file = bundleFile(kind);
  const fresh = fs.existsSync(file) && fs.existsSync(stampFile(kind)) && fs.readFileSync(stampFile(kind), 'utf8') === sourceHash();
  return fresh ? file : buildWorkflowBundle(kind);
}

/** Both bundles, ready: what `npm run build` and the test and fault runs prepare before workers start. */
export async function ensureWorkflowBundles(): Promise<Record<BundleKind, string>> {
  return { traced: await ensureWorkflowBundle('traced'), untraced: await ensureWorkflowBundle('untraced') };
}
