import { createRequire } from 'node:module';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { tracingSettings, type OtlpProtocol } from './tracing-settings.js';

// The SDK is loaded only when tracing is on, so a process without OTEL_* settings never pays
// for it. These are the packages' CommonJS builds, the same instances the Temporal
// interceptors (CommonJS) load.
const require = createRequire(import.meta.url);

/** This process's tracing, once started: where every span goes. */
export interface Tracing {
  /** The workflow spans a worker receives from its sandbox go here too, beside this process's own. */
  spanProcessor: SpanProcessor;
  resource: Resource;
}

let active: { tracing: Tracing; shutdown: () => Promise<void> } | undefined;

/** This process's tracing, or undefined when OTEL_* leave it off. */
export function activeTracing(): Tracing | undefined {
  return active?.tracing;
}

/**
 * Starts tracing for an entry point (worker, job CLI, admin, start, schedules) if OTEL_*
 * ask for it; bad OTEL_* settings throw a ConfigError naming each variable. Call it before
 * the process makes a Temporal client, a worker or a PostgreSQL connection.
 */
export function startTracing(processName: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const settings = tracingSettings(env);
  if (!settings.enabled || active) return active?.tracing;

  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { Resource, detectResourcesSync, envDetectorSync } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');

  // An unreachable collector is worth a warning; the SDK's own chatter is not. Nor is the pg
  // instrumentation's warning that pg was loaded before it: the require below takes care of that.
  const warn = (...parts: unknown[]) => {
    const text = parts.map(String).join(' ');
    if (!text.includes('has been loaded before')) logger.warn(`tracing: ${text}`);
  };
  diag.setLogger({ error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our default name.
  const resource = new Resource({ 'service.name': `durable-jobs-${processName}`, 'durable_jobs.process': processName }).merge(
    detectResourcesSync({ detectors: [envDetectorSync] }),
  );
  const spanProcessor = new BatchSpanProcessor(otlpExporter(settings.protocol));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });

  // Statement text, never parameter values (enhancedDatabaseReporting stays off: values are
  // customer data); only statements inside a traced operation, not pool housekeeping.
  const disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        // The instrumentation names a span after the text before the statement's first space,
        // which for our statements (they start on a new line) is a line break: name the verb.
        requestHook: (span, { query, connection }) => span.updateName(`pg.query:${query.text.trim().split(/\s/, 1)[0]!.toUpperCase()} ${connection.database ?? ''}`.trimEnd()),
      }),
    ],
  });
  // The instrumentation patches pg when it is require()d. Our modules import pg as an ES
  // module, which that hook never sees, and often before tracing starts: requiring pg and
  // pg-pool once here hands the hook the same (cached) module objects, and it patches their
  // prototypes, which every pool and client already made shares.
  require('pg');
  createRequire(require.resolve('pg'))('pg-pool');

  active = {
    tracing: { spanProcessor, resource },
    shutdown: async () => {
      disableInstrumentations();
      // A collector that is down loses these spans; it must not fail the command that made them.
      await provider.shutdown().catch((error: Error) => logger.warn({ err: error.message }, 'tracing: the last spans could not be sent'));
    },
  };
  logger.debug({ protocol: settings.protocol }, 'tracing on');
  return active.tracing;
}

/** Sends the spans still buffered and stops tracing; nothing to do when it is off. Entry points call it on the way out. */
export async function shutdownTracing(): Promise<void> {
  const stopping = active;
  active = undefined;
  await stopping?.shutdown();
}

/** The OTLP/HTTP exporter for the protocol; it reads its endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*. */
function otlpExporter(protocol: OtlpProtocol) {
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}
