// Compiled into the workflow bundles (WORKFLOW_INTERCEPTOR_MODULES in src/workflow-bundle.ts),
// so every job's runs get them. Each run executes in a `RunWorkflow:<type>` span, child of the
// client's start span when the start carried one (a schedule's runs start a trace of their
// own), and each activity, child workflow and continue-as-new it starts gets a span whose
// context travels in the command's headers.
//
// They run in every worker, tracing or not, so a run's promises settle the same way on any of
// them: a worker that does not trace loads the untraced bundle, where they run over the API's
// no-op tracer instead of the SDK's (src/observability/untraced-workflow-otel/), which spares
// evaluating the SDK's modules for every run the sandbox creates. They add no command (only
// headers and spans) and are deterministic: span ids come from the sandbox's seeded
// Math.random, which no workflow code of ours may use (test/pure/workflow-randomness.test.ts),
// and nothing in them waits on anything outside the run.
export { interceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors.js';
