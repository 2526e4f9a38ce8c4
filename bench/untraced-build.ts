import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/workflow-bundle.js';

const TRACING_MODULE = path.join('observability', 'workflow-interceptors');

/**
 * The tracing bench's baseline: a copy of the compiled build (`npm run build` first) in `dir`
 * whose workflow bundles (both kinds, src/workflow-bundle.ts) have every interceptor but
 * OpenTelemetry's, as if tracing had never been added (the untraced bundle keeps the
 * interceptors, over a no-op tracer). The copy's sources are build/'s, so the bundle
 * stamps copied with them match and its worker loads these bundles. Returns its worker script.
 */
export async function untracedBuild(dir: string): Promise<string> {
  const build = path.join(dir, 'build');
  fs.rmSync(build, { recursive: true, force: true });
  fs.cpSync('build', build, { recursive: true });
  // This module runs from src/ (tsx): its list names src/ files, the copy holds their .js.
  const modules = WORKFLOW_INTERCEPTOR_MODULES.filter((file) => !file.includes(TRACING_MODULE)).map((file) =>
    path.join(build, 'src', path.relative(path.resolve('src'), file)).replace(/\.ts$/, '.js'),
  );
  if (modules.length !== WORKFLOW_INTERCEPTOR_MODULES.length - 1) throw new Error(`the tracing interceptor module is not in WORKFLOW_INTERCEPTOR_MODULES (${TRACING_MODULE})`);
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(build, 'src', 'workflows', 'index.js'),
    workflowInterceptorModules: modules,
    logger: new DefaultLogger('WARN'),
  });
  for (const file of ['workflow-bundle.js', 'workflow-bundle-untraced.js']) fs.writeFileSync(path.join(build, 'dist', file), code);
  return path.join(build, 'scripts', 'worker.js');
}
