import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type BundleOptions } from '@temporalio/worker';

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

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
const sourceFile = (name: string) => fileURLToPath(new URL(`./${name}${SOURCE_EXT}`, import.meta.url));
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  sourceFile('workflows/interceptors/run-metrics'),
  // OpenTelemetry: a span per run and per activity it starts (src/observability/workflow-interceptors.ts).
  sourceFile('observability/workflow-interceptors'),
  // Alerts: a scheduled run that fails or finishes over a threshold tells the alert activity (README, "Alerts").
  sourceFile('workflows/interceptors/run-alerts'),
];

/**
 * Modules the sandbox evaluates once per worker thread, shared by every run, instead of once
 * for each run it creates. The jobs' input contracts: building their zod schemas was ~11 ms of
 * every run (BENCHMARKS.md, "Small runs"). The SDK deep-freezes what a preloaded module exports,
 * so these export functions and plain data only, never a schema (test/pure/preloaded-modules.test.ts);
 * and they hold no per-run state, so sharing them cannot leak one run into another (dates.ts's
 * formatter cache is shared, and the same for every run). zod's own modules are shared and
 * frozen with them: sandbox code must not call `z.config`, `.meta({ id })` or `.register()`.
 */
export const PRELOADED_MODULES: string[] = ['contracts', 'daily-reports-contract', 'import-orders-contract', 'purge-old-reports-contract'].map(sourceFile);

/**
 * Two bundles of the same code, interceptors included: `traced`, for a worker whose OTEL_*
 * settings turn tracing on, and `untraced`, for every other worker, in which the OpenTelemetry
 * SDK the workflow interceptors build their tracer from is replaced by a stand-in over the
 * API's no-op tracer (src/observability/untraced-workflow-otel/). The sandbox evaluates a
 * bundle's modules again for every run it creates (a new run, a continue-as-new, a run
 * rebuilt after an eviction), and the SDK's modules were most of OpenTelemetry's share of it.
 *
 * The interceptors' own code is in both, so a run's promises settle after the same number of
 * microtasks in either (test/pure/untraced-workflow-otel.test.ts) and a run may move between
 * workers that trace and workers that do not: leaving the interceptors out instead made every
 * activity's promise settle a few microtasks sooner than a timer's, which can reorder two
 * lanes' commands on replay. The stand-in draws no span ids from the workflow's random
 * numbers, so no workflow code may use them (test/pure/workflow-randomness.test.ts).
 */
export type BundleKind = 'traced' | 'untraced';

const UNTRACED_ALIASES: Record<string, string> = {
  '@opentelemetry/sdk-trace-base$': sourceFile('observability/untraced-workflow-otel/sdk-trace-base'),
  '@opentelemetry/core$': sourceFile('observability/untraced-workflow-otel/core'),
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

/** The untraced bundle's webpack configuration: the OpenTelemetry SDK resolves to the stand-ins. */
function withUntracedAliases(config: WebpackConfig): WebpackConfig {
  return { ...config, resolve: { ...config.resolve, alias: { ...(config.resolve?.alias as Record<string, string | false> | undefined), ...UNTRACED_ALIASES } } };
}

/** Bundles the workflows into dist/ (webpack takes seconds; workers then start in well under one). */
export async function buildWorkflowBundle(kind: BundleKind, hash: string = sourceHash()): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    preloadModules: PRELOADED_MODULES,
    logger: new DefaultLogger('WARN'),
    ...(kind === 'untraced' ? { webpackConfigHook: withUntracedAliases } : {}),
  });
  fs.mkdirSync(BUNDLE_DIR, { recursive: true });
  fs.writeFileSync(bundleFile(kind), code);
  fs.writeFileSync(stampFile(kind), hash);
  return bundleFile(kind);
}

/** The pre-built bundle of this kind if it matches the sources, else a fresh one. */
export async function ensureWorkflowBundle(kind: BundleKind, hash: string = sourceHash()): Promise<string> {
  const file = bundleFile(kind);
  const fresh = fs.existsSync(file) && fs.existsSync(stampFile(kind)) && fs.readFileSync(stampFile(kind), 'utf8') === hash;
  return fresh ? file : buildWorkflowBundle(kind, hash);
}

/** Both bundles, ready (the sources hashed once): what the test and fault runs prepare before workers start. */
export async function ensureWorkflowBundles(): Promise<Record<BundleKind, string>> {
  const hash = sourceHash();
  return { traced: await ensureWorkflowBundle('traced', hash), untraced: await ensureWorkflowBundle('untraced', hash) };
}
