import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
// The SDK's interceptors, from the modules that hold them alone: the package's index also
// loads its worker plugin, which these processes do not use.
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import { activeTracing } from './tracing.js';

/**
 * For every Temporal client we make: a start becomes a `StartWorkflow:<type>` span whose
 * context travels to the run in its headers. None when tracing is off.
 */
export function clientTracingInterceptors(): WorkflowClientInterceptor[] {
  return activeTracing() ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
}

/**
 * For the worker: each activity attempt runs in a `RunActivity:<type>` span, child of the
 * workflow's `StartActivity` span, and its log lines carry trace_id and span_id. None when off.
 */
export function activityTracingInterceptors(): ActivityInterceptorsFactory[] {
  if (!activeTracing()) return [];
  return [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })];
}

/**
 * The sink the workflow interceptors (see workflow-interceptors.ts) hand their finished spans
 * to. With tracing on, they join this process's spans; off, the worker runs the untraced
 * bundle, whose no-op tracer records none, and anything that still arrives is dropped here.
 */
export function workflowSpanSinks(): InjectedSinks<OpenTelemetrySinks> {
  const tracing = activeTracing();
  if (!tracing) return { exporter: { export: { fn: () => undefined } } };
  const exporter = makeWorkflowExporter(tracing.spanProcessor, tracing.resource);
  // The SDK's exporter copies every field of the run's WorkflowInfo into each span's
  // attributes: the memo (who started it: an admin's email), search attributes, the last
  // result. Only these fields, which name the run and say nothing about anyone, go in.
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          const { workflowId, runId, workflowType, taskQueue, namespace, attempt } = info;
          exporter.export.fn({ workflowId, runId, workflowType, taskQueue, namespace, attempt } as typeof info, spans);
        },
      },
    },
  };
}
