// Compiled into the traced workflow bundle (WORKFLOW_INTERCEPTOR_MODULES in src/workflow-bundle.ts),
// which a worker loads when it traces, so every job's runs there get them. Each run executes in a `RunWorkflow:<type>` span, child of the
// client's start span when the start carried one (a schedule's runs start a trace of their
// own), and each activity, child workflow and continue-as-new it starts gets a span whose
// context travels in the command's headers.
//
// A worker that does not trace loads the bundle without them: evaluating OpenTelemetry's
// modules for every run the sandbox creates cost ~6.5 ms a run. The runs' own code is the same
// in both, and these add no command (only headers and spans) and, on SDK 1.13.2+, no yield, so
// a run replays on either (test/temporal/replay.test.ts, bundle-kinds.test.ts). They are
// deterministic: span ids come from the sandbox's seeded Math.random, which no workflow of ours
// uses, and nothing in them waits on anything outside the run.
export { interceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors.js';
