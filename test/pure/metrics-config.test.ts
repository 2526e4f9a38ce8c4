import { expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { metricsEndpoint, metricsUrl } from '../../src/observability/runtime.js';

it('serves metrics on 127.0.0.1:9464 by default, on METRICS_HOST/METRICS_PORT when set, and none with METRICS_PORT=0', () => {
  expect(metricsEndpoint(loadConfig({}))).toEqual({ host: '127.0.0.1', port: 9464 });
  expect(metricsUrl(metricsEndpoint(loadConfig({ METRICS_HOST: '::1', METRICS_PORT: '9470' }))!)).toBe('http://[::1]:9470/metrics');
  expect(metricsEndpoint(loadConfig({ METRICS_PORT: '0' }))).toBeNull();
});

it.each(['abc', '-1', '65536', '9464.5'])('refuses METRICS_PORT=%s, naming the setting and the rule', (value) => {
  expect(() => loadConfig({ METRICS_PORT: value })).toThrow(ConfigError);
  expect(() => loadConfig({ METRICS_PORT: value })).toThrow('METRICS_PORT: must be a port number from 1 to 65535, or 0 for no metrics endpoint');
});
