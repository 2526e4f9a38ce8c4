import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What a collector costs the exporter, and nothing more: an OTLP/HTTP endpoint that reads each
 * request whole and answers success (an empty ExportTraceServiceResponse), keeping only counts.
 */
export async function startDiscardReceiver(): Promise<{ url: string; requests: () => number; bytes: () => number; stop: () => Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': request.headers['content-type'] ?? 'application/x-protobuf' }).end(request.headers['content-type']?.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    bytes: () => bytes,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
