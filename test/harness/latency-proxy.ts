import { readFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * A TCP-level loopback proxy that makes a registry look far away: every byte is delivered `oneWayMs` after it was
 * sent, in each direction, and a new connection is held for a round trip before its first byte goes anywhere (the
 * TCP handshake a real network charges). TLS passes through untouched, so its handshake pays its own round trips.
 * It can also cut connections at chosen byte positions, the way a flaky long-distance link drops a transfer.
 */

export type Direction = 'down' | 'up';

export interface LatencyProxyOptions {
  /** host:port or http(s)://127.0.0.1:PORT of the server behind the proxy. */
  readonly target: string;
  /** Delay of each direction; a round trip costs twice this. @default 0 */
  readonly oneWayMs?: number;
  /**
   * Cut the connection carrying the byte at each of these positions, counted over all connections in that direction
   * (`down`: server to client, `up`: client to server). The bytes before the position get through; the connection
   * is then destroyed on both sides.
   */
  readonly cuts?: { readonly direction: Direction; readonly at: readonly number[] };
  /**
   * Bytes in flight per connection and direction before the proxy stops reading (a TCP window): throughput is at
   * most this per round trip. @default 16 MiB
   */
  readonly windowBytes?: number;
  /**
   * Serve TLS with this certificate (PEM files) and speak plain TCP to the target: a plain-HTTP registry looks like
   * a distant HTTPS one, and the handshake crosses the delayed link like everything else.
   */
  readonly tls?: { readonly certificate: string; readonly key: string };
}

export interface LatencyProxy {
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly port: number;
  /** Bytes that went through, per direction (cut bytes not delivered are not counted). */
  readonly bytes: Record<Direction, number>;
  /** Connections accepted, and connections cut. */
  readonly connections: number;
  readonly cutCount: number;
  /** Cut positions from now on (replaces the option), counted from the current byte totals. */
  setCuts(cuts: { direction: Direction; at: readonly number[] } | undefined): void;
  resetCounters(): void;
  stop(): Promise<void>;
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const target = /^[a-z]+:\/\//.test(options.target) ? new URL(options.target) : new URL(`tcp://${options.target}`);
  if (target.hostname !== '127.0.0.1')
    throw new Error(`startLatencyProxy: target must be on 127.0.0.1, not ${target.host}`);
  const terminator = options.tls ? await startTlsTerminator(options.tls, Number(target.port)) : undefined;
  const targetPort = terminator?.port ?? Number(target.port);
  const oneWayMs = options.oneWayMs ?? 0;
  const windowBytes = options.windowBytes ?? 16 * 1024 * 1024;
  const bytes: Record<Direction, number> = { down: 0, up: 0 };
  let connections = 0;
  let cutCount = 0;
  let cuts: { direction: Direction; at: number[] } | undefined;
  const setCuts = (next: LatencyProxyOptions['cuts']): void => {
    cuts =
      next === undefined
        ? undefined
        : { direction: next.direction, at: [...next.at].sort((a, b) => a - b).map((p) => p + bytes[next.direction]) };
  };
  setCuts(options.cuts);
  const sockets = new Set<Socket>();

  // Half-open allowed: each direction ends when its sender ends it, as on a real link.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    sockets.add(client);
    client.pause();
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    sockets.add(upstream);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // A failed socket takes the other down; an orderly end travels the link like data (see pipeDelayed), so what
    // was written before it is delivered, never dropped by a destroy.
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    // The handshake's round trip: nothing the client sends is read before it is over.
    setTimeout(() => {
      pipeDelayed(client, upstream, 'up');
      pipeDelayed(upstream, client, 'down');
    }, 2 * oneWayMs);

    function pipeDelayed(from: Socket, to: Socket, direction: Direction): void {
      let inFlight = 0;
      // The receiver's backpressure reaches the sender, as a TCP window would: bytes are not piled up in this process
      // (where they would count as delivered long before the receiver reads them).
      let blocked = false;
      to.on('drain', () => {
        blocked = false;
        if (inFlight < windowBytes && from.isPaused()) from.resume();
      });
      from.on('data', (chunk: Buffer) => {
        if (closed) return;
        let data = chunk;
        let cut = false;
        if (cuts && cuts.direction === direction) {
          const total = bytes[direction] + inFlightTotal[direction];
          const next = cuts.at[0];
          if (next !== undefined && total + data.length >= next) {
            cuts.at.shift();
            data = data.subarray(0, Math.max(0, next - total));
            cut = true;
            cutCount++;
          }
        }
        inFlight += data.length;
        inFlightTotal[direction] += data.length;
        if (inFlight >= windowBytes) from.pause();
        const deliver = (): void => {
          inFlight -= data.length;
          inFlightTotal[direction] -= data.length;
          if (closed) return;
          bytes[direction] += data.length;
          if (data.length > 0 && !to.write(data)) {
            blocked = true;
            from.pause();
          }
          if (cut) {
            // Let the bytes before the cut drain, then drop the connection both ways.
            to.end(() => close());
            from.destroy();
            return;
          }
          if (!blocked && inFlight < windowBytes && from.isPaused()) from.resume();
        };
        if (oneWayMs > 0) setTimeout(deliver, oneWayMs);
        else deliver();
      });
      from.on('end', () => setTimeout(() => to.end(), oneWayMs));
      from.resume();
    }
  });
  const inFlightTotal: Record<Direction, number> = { down: 0, up: 0 };
  server.on('connection', (socket) => socket.unref());
  server.unref();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('latency proxy has no TCP address'));
      else resolve(address.port);
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    host: `127.0.0.1:${port}`,
    port,
    bytes,
    get connections() {
      return connections;
    },
    get cutCount() {
      return cutCount;
    },
    setCuts,
    resetCounters() {
      bytes.down = 0;
      bytes.up = 0;
      connections = 0;
      cutCount = 0;
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }).then(() => terminator?.stop());
      return stopping;
    },
  };
}

/** A TLS server on 127.0.0.1 that forwards the decrypted bytes to `port`. */
async function startTlsTerminator(
  tls: { certificate: string; key: string },
  port: number,
): Promise<{ port: number; stop(): Promise<void> }> {
  const [cert, key] = await Promise.all([readFile(tls.certificate), readFile(tls.key)]);
  const sockets = new Set<Socket>();
  const server = createTlsServer({ cert, key }, (secure) => {
    const plain = connect(port, '127.0.0.1');
    sockets.add(secure);
    sockets.add(plain);
    const close = (): void => {
      secure.destroy();
      plain.destroy();
      sockets.delete(secure);
      sockets.delete(plain);
    };
    secure.on('error', close).on('close', () => sockets.delete(secure));
    plain.on('error', close).on('close', () => sockets.delete(plain));
    secure.pipe(plain);
    plain.pipe(secure);
  });
  server.unref();
  const listening = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('TLS terminator has no TCP address'));
      else resolve(address.port);
    });
  });
  return {
    port: listening,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
