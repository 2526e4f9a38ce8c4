import { Client, Connection } from '@temporalio/client';
import type { TemporalSettings } from './connection-settings.js';
import { clientTracingInterceptors } from '../observability/temporal-tracing.js';

/** Connects a client, turning "connection refused" into an error that says what to do. */
export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect(settings.connectionOptions).catch((error: Error) => {
    const hint = settings.remote ? 'check TEMPORAL_ADDRESS / your envconfig profile' : 'start it with: npm start';
    throw new Error(`cannot reach Temporal at ${settings.address} (${error.message}); ${hint}`);
  });
  // Every start through this client opens a trace when tracing is on (no interceptor when off).
  const client = new Client({ connection, namespace: settings.namespace, interceptors: { workflow: clientTracingInterceptors() } });
  return { client, close: () => connection.close() };
}
