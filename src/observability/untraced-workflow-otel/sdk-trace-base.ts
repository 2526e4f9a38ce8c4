// Stands in for @opentelemetry/sdk-trace-base in the untraced workflow bundle
// (src/workflow-bundle.ts): the pieces @temporalio/interceptors-opentelemetry's workflow
// interceptors take from it, with @opentelemetry/api's no-op tracer underneath. The
// interceptors' own code runs unchanged, so a run's promises settle exactly as in the traced
// bundle (test/pure/untraced-workflow-otel.test.ts counts the microtasks); only no span is
// recorded, and no span id is drawn from the workflow's random numbers.
import { context, ProxyTracerProvider, type ContextManager, type Tracer } from '@opentelemetry/api';

export class BasicTracerProvider {
  addSpanProcessor(_processor: unknown): void {}

  /** As the real provider's: the interceptors' context manager becomes the global one. */
  register(config: { contextManager?: ContextManager } = {}): void {
    if (config.contextManager) context.setGlobalContextManager(config.contextManager);
  }

  /** The API's no-op tracer, whatever provider is registered globally (none is, in this bundle). */
  getTracer(name: string): Tracer {
    return new ProxyTracerProvider().getTracer(name);
  }
}

export class SimpleSpanProcessor {
  constructor(_exporter: unknown) {}
}
