// temporalWithin: a Temporal call that outlives its check is cancelled, never left queued.
// A call still queued when the connection closes is failed as UNAVAILABLE and retried by the
// SDK from a timer on the closed channel, which throws "Channel has been shut down" as an
// uncaught exception: CI saw it once from the status page's dead-Temporal test, whose checks
// gave up a few milliseconds before gRPC's own deadline fired on a loaded machine.
import net from 'node:net';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckTimeoutError } from '../../src/health/check-result.js';
import { temporalWithin, whenSettled } from '../../src/health/temporal-call.js';

const CANCELLED = 1; // gRPC's status code, which the SDK never retries
/** The status of every call this connection ended, in order: the SDK's retry interceptor sees each. */
const ended: number[] = [];
const sdkRetries = defaultGrpcRetryOptions();
const recordingRetries = { ...sdkRetries, retryableDecider: (attempt: number, status: { code: number }) => {
  ended.push(status.code);
  return sdkRetries.retryableDecider(attempt, status as never);
} };

let blackHole: net.Server;
const held = new Set<net.Socket>();
let connection: Connection;
let client: Client;

beforeAll(async () => {
  // Accepts connections and never says a word: a hung Temporal, so every call waits.
  blackHole = net.createServer((socket) => held.add(socket.on('error', () => undefined)));
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`;
  // The SDK's own retry interceptor and options, watched: what the admin app's connection has.
  connection = Connection.lazy({ address, interceptors: [makeGrpcRetryInterceptor(recordingRetries)] });
  client = new Client({ connection, namespace: 'default' });
});
afterAll(async () => {
  await connection?.close();
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => blackHole?.close(resolve));
});

describe('temporalWithin', () => {
  it('gives up after its time with a CheckTimeoutError, and every call made inside has ended, cancelled', async () => {
    ended.length = 0;
    const started = Date.now();
    const work = temporalWithin(client, 300, 'Temporal at the black hole', () => Promise.all([
      client.workflowService.describeNamespace({ namespace: 'default' }),
      client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'q' } }),
    ]));
    await expect(work).rejects.toThrow(new CheckTimeoutError('Temporal at the black hole did not answer within 0.3 s'));
    expect(Date.now() - started).toBeLessThan(2_000);
    // Cancelled, not timed out: gRPC's deadline comes a second later, so without the
    // cancellation both calls would still be queued here, for a closing connection to strand.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toEqual([CANCELLED, CANCELLED]);
  });

  it('cancels what is still running when the work itself has returned', async () => {
    ended.length = 0;
    const answer = await temporalWithin(client, 5_000, 'Temporal', async () => {
      void client.workflowService.describeNamespace({ namespace: 'default' }).catch(() => undefined); // not awaited
      return 'done';
    });
    expect(answer).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toEqual([CANCELLED]);
  });

  it('a retry the SDK already has on a timer is waited for (whenSettled) before the connection closes: nothing throws after', async () => {
    // Accepts and at once closes every connection: each attempt fails UNAVAILABLE at once, and
    // the SDK's retry interceptor schedules the next on a timer the abort cannot reach.
    const slam = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => slam.listen(0, '127.0.0.1', resolve));
    const slamming = Connection.lazy({ address: `127.0.0.1:${(slam.address() as net.AddressInfo).port}` });
    const slammed = new Client({ connection: slamming, namespace: 'default' });
    const uncaught: Error[] = [];
    const listener = (error: Error) => uncaught.push(error);
    process.on('uncaughtException', listener);
    try {
      await expect(temporalWithin(slammed, 300, 'Temporal', () => slammed.workflowService.describeNamespace({ namespace: 'default' })))
        .rejects.toThrow(CheckTimeoutError);
      await whenSettled(slammed);
      await slamming.close();
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // past any backoff left
      expect(uncaught.map((error) => error.message)).toEqual([]); // without whenSettled: "Channel has been shut down"
    } finally {
      process.off('uncaughtException', listener);
      await new Promise((resolve) => slam.close(resolve));
    }
  });
});
