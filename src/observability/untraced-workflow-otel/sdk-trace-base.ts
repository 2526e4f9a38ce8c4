// Stands in for @opentelemetry/sdk-trace-base in the untraced workflow bundle
// (src/workflow-bundle.ts): the pieces @temporalio/interceptors-opentelemetry's workflow
// interceptors take from it, with @opentelemetry/api's no-op tracer underneath. The
// interceptors' own code runs unchanged, so a run's promises settle exactly as in the traced
// bundle (test/pure/untraced-workflow-otel.test.ts counts the microtasks); only no span is
// recorded, and no span id is drawn from the workflow's random numbers.
import { context, trace, type ContextManager, type Tracer } from '@opentelemetry/api';

export class BasicTracerProvider {
  addSpanProcessor(_processor: unknown): void {}

  /** As the real provider's: the interceptors' context manager becomes the global one. */
  register(config: { contextManager?: ContextManager } = {}): void {
    if (config.contextManager) context.setGlobalContextManager(config.contextManager);
  }

  /** No provider is registered in this bundle: the API's no-op tracer. */
  getTracer(name: string): Tracer {
    return trace.getTracer(name);
  }
}

export class SimpleSpanProcessor {
  constructor(_exporter: unknown) {}
}
