import { loadClientConnectConfig } from '@temporalio/envconfig';

export const LOCAL_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** True when TEMPORAL_ADDRESS or an envconfig profile names a server: nothing local is started. */
  remote: boolean;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

/** Reads TEMPORAL_* variables and the envconfig TOML profile (TEMPORAL_PROFILE), the SDK's standard way. */
export function loadTemporalSettings(): TemporalSettings {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const remote = Boolean(connectionOptions.address);
  const address = connectionOptions.address ?? LOCAL_TEMPORAL_ADDRESS;
  return { address, namespace: namespace ?? 'default', remote, connectionOptions: { ...connectionOptions, address } };
}
