import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { clientTracingInterceptors } from '../observability/temporal-tracing.js';

const overWorkerConnections = new WeakSet<Client>();

/**
 * A client over the connection of a worker in this process (npm start, and the admin page it
 * serves). Runs it starts ask for eager start: the server answers the start call with the run's
 * first workflow task, which this process's worker takes at once, without the trip through the
 * task queue. The SDK core hands the task over only if a worker on this connection polls that
 * task queue and has a free slot; otherwise the server dispatches the run as usual.
 */
export function clientOverWorkerConnection(connection: NativeConnection, namespace: string): Client {
  const client = new Client({ connection, namespace, interceptors: { workflow: clientTracingInterceptors() } });
  overWorkerConnections.add(client);
  return client;
}

/**
 * Whether runs started through this client may ask for eager start. Only a client over a
 * worker's NativeConnection can (the SDK refuses the request on any other connection), so every
 * other door (the CLI, a standalone admin page, schedules) starts runs as before.
 */
export function mayStartEagerly(client: Client): boolean {
  return overWorkerConnections.has(client);
}
