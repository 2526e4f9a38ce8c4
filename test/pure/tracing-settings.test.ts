import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { tracingSettings } from '../../src/observability/tracing-settings.js';

describe('tracing settings (OTEL_*)', () => {
  it('are off when nothing is set: no SDK, no cost', () => {
    expect(tracingSettings({})).toEqual({ enabled: false });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '' })).toEqual({ enabled: false });
    // A service name alone exports nothing: it names spans that are not made.
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'reports' })).toEqual({ enabled: false });
  });

  it('are on when an endpoint or the otlp exporter is named, protobuf by default', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ enabled: true, protocol: 'http/protobuf' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' })).toEqual({ enabled: true, protocol: 'http/protobuf' });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: true, protocol: 'http/protobuf' });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ enabled: true, protocol: 'http/json' });
  });

  it('take the traces-specific protocol over the general one', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toEqual({ enabled: true, protocol: 'http/json' });
  });

  it('are off when the exporter is none or the SDK is disabled, whatever else is set', () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ enabled: false });
    expect(tracingSettings({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: false });
    expect(tracingSettings({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: true, protocol: 'http/protobuf' });
  });

  it('refuse bad values all at once, naming each variable and its rule', () => {
    const env = { OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_SDK_DISABLED: 'yes' };
    const error = (() => {
      try {
        tracingSettings(env);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("OTEL_TRACES_EXPORTER: got 'jaeger': must be 'otlp' or 'none'");
    expect(message).toContain("OTEL_EXPORTER_OTLP_PROTOCOL: got 'grpc': must be 'http/protobuf' or 'http/json'");
    expect(message).toContain("OTEL_EXPORTER_OTLP_ENDPOINT: got 'collector:4318': must be an http:// or https:// URL");
    expect(message).toContain("OTEL_SDK_DISABLED: got 'yes': must be 'true' or 'false'");
  });
});
