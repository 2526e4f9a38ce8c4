import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, ROOT_CONTEXT, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider as SdkTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { instrument } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager.js';
import { afterEach, expect, it } from 'vitest';
import { BasicTracerProvider as StandInTracerProvider, SimpleSpanProcessor as StandInSpanProcessor } from '../../src/observability/untraced-workflow-otel/sdk-trace-base.js';

/**
 * The untraced workflow bundle runs OpenTelemetry's workflow interceptors over a stand-in for
 * the SDK (src/workflow-bundle.ts). A run may move between the two bundles, so every promise
 * the interceptors hand back must settle after as many microtasks in one as in the other:
 * otherwise two lanes of a run, one waiting on an activity and one on a timer, could issue
 * their next commands in another order on replay. `instrument` is where the interceptors'
 * tracer comes in; the rest of their code is the same in both bundles. Each tracer is set up
 * as the interceptors' getTracer() does (workflow/index.js): a simple span processor, and the
 * provider registered with the interceptors' own context manager.
 */
// The sandbox provides AsyncLocalStorage to the interceptors' context manager through globalThis.
(globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage = AsyncLocalStorage;
const exporter = { export: (_spans: unknown, done: (result: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined };

function sdkTracer(): Tracer {
  const provider = new SdkTracerProvider();
  provider.addSpanProcessor(new SimpleSpanProcessor(exporter));
  provider.register({ contextManager: new ContextManager() });
  return provider.getTracer('@temporalio/interceptor-workflow');
}

function standInTracer(): Tracer {
  const provider = new StandInTracerProvider();
  provider.addSpanProcessor(new StandInSpanProcessor(exporter));
  provider.register({ contextManager: new ContextManager() });
  return provider.getTracer('@temporalio/interceptor-workflow');
}

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

interface Settling {
  microtasks: number;
  /** Whether `fn` (where the interceptors call `next`, which issues the command) ran before `instrument` returned. */
  calledAtOnce: boolean;
  recording: boolean;
}

async function settling(tracer: Tracer | null, outcome: 'resolve' | 'reject', parent?: Context): Promise<Settling> {
  let settle!: () => void;
  const inner = new Promise<number>((resolve, reject) => (settle = () => (outcome === 'resolve' ? resolve(1) : reject(new Error('failed')))));
  let recording: boolean | undefined;
  const outer = tracer ? instrument({ tracer, spanName: 'StartActivity:x', fn: (span: Span) => ((recording = span.isRecording()), inner), ...(parent ? { context: parent } : {}) }) : inner;
  const calledAtOnce = tracer === null || recording !== undefined;
  let settled = false;
  outer.then(() => (settled = true), () => (settled = true));
  settle();
  let microtasks = 0;
  while (!settled) {
    await null;
    if (++microtasks > 100) throw new Error('never settled');
  }
  return { microtasks, calledAtOnce, recording: recording ?? false };
}

it.each([
  ['resolves', 'resolve', undefined],
  ['rejects', 'reject', undefined],
  ['resolves, with a parent context from headers', 'resolve', ROOT_CONTEXT],
  ['rejects, with a parent context from headers', 'reject', ROOT_CONTEXT],
] as const)('an instrumented promise that %s settles after as many microtasks with the stand-in as with the SDK', async (_name, outcome, parent) => {
  const sdk = await settling(sdkTracer(), outcome, parent);
  trace.disable();
  context.disable();
  propagation.disable();
  const standIn = await settling(standInTracer(), outcome, parent);
  const bare = await settling(null, outcome);
  expect(standIn.microtasks).toBe(sdk.microtasks);
  expect([sdk.calledAtOnce, standIn.calledAtOnce]).toEqual([true, true]);
  // The SDK records spans; the stand-in is the no-op tracer.
  expect([sdk.recording, standIn.recording]).toEqual([true, false]);
  // What the test can tell apart: without the interceptor the promise settles sooner (the
  // first attempt at an untraced bundle left the interceptors out, and was reverted).
  expect(bare.microtasks).toBeLessThan(sdk.microtasks);
});
