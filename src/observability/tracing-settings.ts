import { ConfigError } from '../config.js';

/**
 * What the standard OTEL_* variables ask of tracing, checked once. Tracing is off unless a
 * trace exporter or an OTLP endpoint is named: an unset environment costs nothing (no SDK,
 * no interceptors), unlike the OpenTelemetry default of exporting to localhost:4318.
 *
 * Read here: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT and
 * OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL. The SDK itself reads the rest (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS / _TIMEOUT / _COMPRESSION,
 * OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*).
 */
export type TracingSettings = { enabled: false } | { enabled: true; protocol: OtlpProtocol };

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

const EXPORTER_RULE = "must be 'otlp' or 'none' (spans go to an OTLP collector such as Jaeger or the OpenTelemetry Collector)";
const PROTOCOL_RULE = `must be ${OTLP_PROTOCOLS.map((p) => `'${p}'`).join(' or ')}; grpc is not built in: point the endpoint at the collector's OTLP/HTTP port (4318)`;
const BOOLEAN_RULE = "must be 'true' or 'false'";

export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings {
  // Empty counts as unset, as in loadConfig.
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]!.trim());
  const problems: string[] = [];

  const disabled = get('OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') problems.push(`  OTEL_SDK_DISABLED: got '${disabled}': ${BOOLEAN_RULE}`);

  const exporter = get('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') problems.push(`  OTEL_TRACES_EXPORTER: got '${exporter}': ${EXPORTER_RULE}`);

  const protocolVariable = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = get(protocolVariable) ?? 'http/protobuf';
  if (!OTLP_PROTOCOLS.includes(protocol as OtlpProtocol)) problems.push(`  ${protocolVariable}: got '${protocol}': ${PROTOCOL_RULE}`);

  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = get(name);
    if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) problems.push(`  ${name}: got '${value}': must be an http:// or https:// URL, e.g. http://127.0.0.1:4318`);
  }

  if (problems.length > 0) throw new ConfigError(`invalid OpenTelemetry settings (see README, Tracing):\n${problems.join('\n')}`);

  const endpointNamed = get('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
  const wanted = exporter === 'otlp' || (exporter === undefined && endpointNamed);
  if (disabled === 'true' || !wanted) return { enabled: false };
  return { enabled: true, protocol: protocol as OtlpProtocol };
}
