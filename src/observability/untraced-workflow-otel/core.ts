// Stands in for @opentelemetry/core in the untraced workflow bundle (see sdk-trace-base.ts):
// the interceptors' span exporter only takes this enum from it, and never runs there.
export enum ExportResultCode {
  SUCCESS = 0,
  FAILED = 1,
}
