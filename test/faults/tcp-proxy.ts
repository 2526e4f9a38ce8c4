import net from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`: give this to the client instead of the target. */
  address: string;
  /**
   * From now on forward nothing, either way, on every connection (open or new), and keep
   * every socket open: a black hole, as a network partition looks to both ends. Data and
   * end-of-stream received meanwhile are held and delivered by `heal()`, as TCP's
   * retransmissions would deliver them once the network is back.
   */
  partition(): void;
  heal(): void;
  partitioned(): boolean;
  close(): Promise<void>;
}

/** One direction of one connection: forwards chunks, or holds them while partitioned. */
class Pipe {
  private held: Array<Buffer | 'end'> = [];

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly isPartitioned: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => this.push('end'));
  }

  private push(item: Buffer | 'end'): void {
    if (this.isPartitioned() || this.held.length > 0) {
      this.held.push(item);
      this.from.pause(); // the rest stays in the kernel's buffers, as it would on a real link
      return;
    }
    this.deliver(item);
  }

  private deliver(item: Buffer | 'end'): void {
    if (this.to.destroyed) return;
    if (item === 'end') return void this.to.end();
    if (!this.to.write(item)) {
      this.from.pause();
      this.to.once('drain', () => !this.isPartitioned() && this.from.resume());
    }
  }

  pause(): void {
    this.from.pause();
  }

  /** Delivers what was held, in order, then lets data flow again. */
  resume(): void {
    const held = this.held;
    this.held = [];
    for (const item of held) this.deliver(item);
    if (this.to.writableNeedDrain) return; // the drain handler resumes
    this.from.resume();
  }
}

/**
 * A TCP proxy in front of one target, whose link can be cut into a black hole and restored:
 * the fault suite puts one between each worker process and the Temporal server.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let isPartitioned = false;
  const pipes = new Set<Pipe>();
  const sockets = new Set<net.Socket>();
  /** Closes that happened during a partition: the other end learns of them when it heals. */
  let heldCloses: Array<() => void> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    const pair = [new Pipe(client, upstream, () => isPartitioned), new Pipe(upstream, client, () => isPartitioned)];
    for (const pipe of pair) {
      pipes.add(pipe);
      if (isPartitioned) pipe.pause();
    }
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      // A reset on one side resets the other (a refused upstream, a client that went away).
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        const closeOther = () => {
          (socket === client ? upstream : client).destroy();
          for (const pipe of pair) pipes.delete(pipe);
        };
        // What the other end was sent before the close still reaches it first (heal resumes pipes, then closes).
        if (isPartitioned) heldCloses.push(closeOther);
        else closeOther();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    partition: () => {
      isPartitioned = true;
      for (const pipe of pipes) pipe.pause();
    },
    heal: () => {
      isPartitioned = false;
      for (const pipe of pipes) pipe.resume();
      for (const close of heldCloses) close();
      heldCloses = [];
    },
    partitioned: () => isPartitioned,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `host:port` (as TEMPORAL_ADDRESS is written) to what net.connect takes. */
export function parseHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(address.slice(at + 1)) };
}
