import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import type { TLSSocket } from 'node:tls';
import { HeadAgents } from './head-request.js';
import { headResponse } from './exchange.js';
import { DEFAULT_CONNECTIONS_PER_ORIGIN, DEFAULT_STALL_TIMEOUT_MS, HTTP2_STREAMS_PER_CONNECTION } from '../defaults.js';

/** Connection settings shared by every registry of a run. */
export interface TransportOptions {
  /** Longest silence on a connection (no response headers, or no body bytes) before the request fails. @default 60 s */
  readonly stallTimeoutMs?: number;
  /** Connections per origin. @default 32 */
  readonly connections?: number;
  /**
   * Offer HTTP/2 to TLS registries for requests without a streamed body (see `Transport`). `false` speaks HTTP/1.1
   * only (`--no-http2`). @default true
   */
  readonly http2?: boolean;
}

/** One request as the transport sends it. */
export interface TransportRequest {
  readonly method: Dispatcher.HttpMethod;
  readonly headers: Record<string, string>;
  readonly body?: Dispatcher.DispatchOptions['body'];
  /** Unverified TLS (an `insecure` registry). */
  readonly insecure: boolean;
  /** A blob read or a blob upload body: bulk bytes, always over HTTP/1.1 (see `Transport`). */
  readonly bulk: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** What the transport learnt of an origin from the TLS handshake (ALPN, RFC 7301). */
type Protocol = 'h2' | 'http/1.1';

/**
 * The run's connections. Blob bytes go over HTTP/1.1 keep-alive pools, one TCP connection per transfer: a transfer
 * gets its own congestion window, and a slow or cut one does not stall the others (HTTP/2 would put every stream of
 * an origin on one connection, behind one flow-control window). Writes (upload `POST`/`PATCH`/`PUT`, manifest `PUT`)
 * go there too: undici sends a non-idempotent request on an HTTP/2 connection only when nothing else is in flight
 * on it, which would serialize them. The other reads — tag lists, HEADs, manifests — are small and latency-bound: to
 * a TLS registry that offers HTTP/2 (RFC 9113, chosen by ALPN, RFC 7301) they are multiplexed, up to
 * `HTTP2_STREAMS_PER_CONNECTION` at once on a connection, so a warm run's hundreds of HEADs cost one round trip on
 * one connection instead of a handshake per connection and a wave per 32 requests (docs/performance.md, "Round
 * trips and HTTP/2"). A registry that answers ALPN with HTTP/1.1 keeps the HTTP/1.1 path: HEADs over a node:http
 * keep-alive pool (see `HeadAgents`), the rest over undici.
 *
 * The first request to an origin (the one that goes alone to learn the registry's challenge) is sent on the HTTP/2
 * pool, whose handshake records what the origin speaks; later requests follow it.
 */
export class Transport {
  readonly verified: Agent;
  readonly unverified: Agent;
  readonly heads: HeadAgents;
  private readonly multiplexed: Agent | undefined;
  private readonly multiplexedUnverified: Agent | undefined;
  /** `host[:port]` → what its TLS handshake chose on the HTTP/2 pool. */
  private readonly protocols = new Map<string, Protocol>();

  constructor(options: TransportOptions = {}) {
    const common = {
      connections: options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      bodyTimeout: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    };
    this.verified = new Agent(common);
    this.unverified = new Agent({ ...common, connect: { rejectUnauthorized: false } });
    this.heads = new HeadAgents({ connections: common.connections, timeoutMs: common.headersTimeout });
    if (options.http2 !== false) {
      const multiplexing = (rejectUnauthorized: boolean): Agent => {
        const connect = buildConnector({ allowH2: true, rejectUnauthorized });
        return new Agent({
          ...common,
          allowH2: true,
          // Streams per connection. An HTTP/1.1 origin gets only its first request (alone) here, so this never
          // pipelines HTTP/1.1 requests in practice.
          pipelining: HTTP2_STREAMS_PER_CONNECTION,
          connect: (opts, callback) =>
            connect(opts, (error, socket) => {
              if (!error && socket && 'alpnProtocol' in socket)
                this.protocols.set(
                  opts.host ?? `${opts.hostname}${opts.port ? `:${opts.port}` : ''}`,
                  (socket as TLSSocket).alpnProtocol === 'h2' ? 'h2' : 'http/1.1',
                );
              callback(error, socket as never);
            }),
        });
      };
      this.multiplexed = multiplexing(true);
      this.multiplexedUnverified = multiplexing(false);
    }
  }

  /** Sends one request over the pool its kind and origin call for; the body is unread. */
  async send(url: URL, req: TransportRequest): Promise<Dispatcher.ResponseData> {
    const small = url.protocol === 'https:' && !req.bulk && (req.method === 'GET' || req.method === 'HEAD');
    // An origin not known yet goes there too: its first request (alone, to learn the challenge) tells what it speaks.
    const multiplexed =
      small && this.protocols.get(url.host) !== 'http/1.1'
        ? req.insecure
          ? this.multiplexedUnverified
          : this.multiplexed
        : undefined;
    if (!multiplexed && req.method === 'HEAD') {
      return headResponse(
        await this.heads.head(url, { headers: req.headers, insecure: req.insecure, signal: req.signal }),
      );
    }
    return request(url, {
      dispatcher: multiplexed ?? (req.insecure ? this.unverified : this.verified),
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
  }

  async close(): Promise<void> {
    this.heads.close();
    await Promise.all(
      [this.verified, this.unverified, this.multiplexed, this.multiplexedUnverified].map((a) => a?.close()),
    );
  }
}
