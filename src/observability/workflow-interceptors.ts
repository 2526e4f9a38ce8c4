// Compiled into the workflow bundle (WORKFLOW_INTERCEPTOR_MODULES in src/workflow-bundle.ts),
// so every job's runs get them. Each run executes in a `RunWorkflow:<type>` span, child of the
// client's start span when the start carried one (a schedule's runs start a trace of their
// own), and each activity, child workflow and continue-as-new it starts gets a span whose
// context travels in the command's headers.
//
// They run whether or not the worker traces (its sink drops the spans when off): workflow
// code must not depend on a worker setting. They are deterministic: span ids come from the
// sandbox's seeded Math.random, and nothing in them waits on anything outside the run.
export { interceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors.js';
