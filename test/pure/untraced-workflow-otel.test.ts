import { BasicTracerProvider as RealTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { Tracer } from '@opentelemetry/api';
import { instrument } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { expect, it } from 'vitest';
import { BasicTracerProvider as StandInTracerProvider } from '../../src/observability/untraced-workflow-otel/sdk-trace-base.js';

/**
 * The untraced workflow bundle runs OpenTelemetry's workflow interceptors over a stand-in for
 * the SDK (src/workflow-bundle.ts). A run may move between the two bundles, so every promise
 * the interceptors hand back must settle after as many microtasks in one as in the other:
 * otherwise two lanes of a run, one waiting on an activity and one on a timer, could issue
 * their next commands in another order on replay. `instrument` is where the interceptors'
 * tracer comes in; the rest of their code is the same in both bundles.
 */
async function microtasksUntilSettled(tracer: Tracer | null, outcome: 'resolve' | 'reject'): Promise<number> {
  let settle!: () => void;
  const inner = new Promise<number>((resolve, reject) => (settle = () => (outcome === 'resolve' ? resolve(1) : reject(new Error('failed')))));
  const outer = tracer ? instrument({ tracer, spanName: 'StartActivity:x', fn: () => inner }) : inner;
  let settled = false;
  outer.then(() => (settled = true), () => (settled = true));
  settle();
  let microtasks = 0;
  while (!settled) {
    await null;
    if (++microtasks > 100) throw new Error('never settled');
  }
  return microtasks;
}

it.each(['resolve', 'reject'] as const)('an instrumented promise that %ss settles after as many microtasks with the stand-in tracer as with the SDK', async (outcome) => {
  const sdk = await microtasksUntilSettled(new RealTracerProvider().getTracer('workflow'), outcome);
  const standIn = await microtasksUntilSettled(new StandInTracerProvider().getTracer('workflow'), outcome);
  const bare = await microtasksUntilSettled(null, outcome);
  expect(standIn).toBe(sdk);
  // What the test can tell apart: without the interceptor the promise settles sooner (the
  // first attempt at an untraced bundle left the interceptors out, and was reverted).
  expect(bare).toBeLessThan(sdk);
});
