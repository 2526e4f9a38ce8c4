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
const BUNDLE_FILE = path.join(BUNDLE_DIR, 'workflow-bundle.js');
const STAMP_FILE = path.join(BUNDLE_DIR, 'workflow-bundle.sha256');

/**
 * Workflow interceptor modules compiled into the bundle (a pre-built bundle ignores the
 * worker's `interceptors.workflowModules`): each module exports `interceptors()`, and every
 * registered job gets them alike. Paths are resolved next to this module, like the workflows.
 */
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  fileURLToPath(new URL(`./workflows/interceptors/run-metrics${SOURCE_EXT}`, import.meta.url)),
  // OpenTelemetry: a span per run and per activity it starts (src/observability/workflow-interceptors.ts).
  fileURLToPath(new URL(`./observability/workflow-interceptors${SOURCE_EXT}`, import.meta.url)),
  // Alerts: a scheduled run that fails or finishes over a threshold tells the alert activity (README, "Alerts").
  fileURLToPath(new URL(`./workflows/interceptors/run-alerts${SOURCE_EXT}`, import.meta.url)),
];

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
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: new DefaultLogger('WARN') });
  fs.mkdirSync(BUNDLE_DIR, { recursive: true });
  fs.writeFileSync(BUNDLE_FILE, code);
  fs.writeFileSync(STAMP_FILE, sourceHash());
  return BUNDLE_FILE;
}

/** The pre-built bundle if it matches the sources, else a fresh one. */
export async function ensureWorkflowBundle(): Promise<string> {
  const fresh = fs.existsSync(BUNDLE_FILE) && fs.existsSync(STAMP_FILE) && fs.readFileSync(STAMP_FILE, 'utf8') === sourceHash();
  return fresh ? BUNDLE_FILE : buildWorkflowBundle();
}
