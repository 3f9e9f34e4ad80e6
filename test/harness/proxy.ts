import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { ImageBuilder } from './images.js';

/**
 * A loopback reverse proxy in front of a registry, to count requests and inject faults, and a separate blob
 * origin standing in for the object storage a registry redirects blob reads to.
 */

export interface ProxiedRequest {
  method: string;
  /** Path with query, as received. */
  path: string;
  /** Request headers, with the Authorization value replaced by its scheme. */
  headers: Record<string, string>;
  /** The Authorization scheme presented (`Basic`, `Bearer`), if any. */
  authorization?: string;
  /** The status sent back (0 when the connection was reset before answering). */
  status?: number;
  /** When the request arrived (Date.now()), for checks on pacing. */
  at: number;
  fault?: Fault;
}

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { reset: true }
  /** Forward the headers and the first N body bytes, then close the connection (`hard`: with a TCP RST). */
  | { resetAfterBytes: number; hard?: boolean }
  /** Forward the headers and the first N body bytes, then send nothing more and keep the connection open. */
  | { stallAfterBytes: number }
  /** Forward the body `bytes` at a time, one slice every `intervalMs`: slow, but never silent for longer. */
  | { drip: { bytes: number; intervalMs: number } }
  | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Forward the exchange, adding these headers to the registry's response (e.g. a rate-limit quota). */
  | { addHeaders: Record<string, string> }
  /** Forward the request without these headers (e.g. `range`: a server that ignores ranges answers 200). */
  | { dropRequestHeaders: readonly string[] };

export interface Proxy {
  /** http://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  requests: ProxiedRequest[];
  /** Forget recorded requests. */
  reset(): void;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** http://127.0.0.1:PORT of the registry. */
  target: string;
  /**
   * Called for each request before forwarding; a Fault replaces or alters the exchange. It may answer later (a
   * promise), e.g. after asking the registry something; the request body waits unread meanwhile.
   */
  fault?: (req: ProxiedRequest) => Fault | undefined | Promise<Fault | undefined>;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) are each side's own business. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

export async function startProxy(opts: ProxyOptions): Promise<Proxy> {
  const target = new URL(opts.target);
  if (target.hostname !== '127.0.0.1') throw new Error(`startProxy: target must be on 127.0.0.1, not ${target.host}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: ProxiedRequest[] = [];

  const server = createServer((req, res) => {
    const record: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: redact(req.headers),
      at: Date.now(),
    };
    const scheme = req.headers.authorization?.split(' ')[0];
    if (scheme !== undefined) record.authorization = scheme;
    requests.push(record);
    const decided = opts.fault?.(record);
    if (decided instanceof Promise) {
      decided.then(handle, (error: unknown) => {
        record.status = 500;
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`proxy fault function failed: ${String(error)}`);
      });
    } else {
      handle(decided);
    }

    function handle(fault: Fault | undefined): void {
      if (fault !== undefined) record.fault = fault;

      if (fault !== undefined && 'reset' in fault) {
        record.status = 0;
        req.socket.destroy();
        return;
      }
      if (fault !== undefined && 'redirect' in fault) {
        req.resume();
        record.status = fault.status ?? 307;
        res.writeHead(record.status, { location: fault.redirect, 'content-length': '0' }).end();
        return;
      }
      if (fault !== undefined && 'status' in fault) {
        // Drain an upload we will not forward so the connection stays usable.
        req.resume();
        record.status = fault.status;
        const body = fault.body ?? '';
        res.writeHead(fault.status, { 'content-length': String(Buffer.byteLength(body)), ...fault.headers }).end(body);
        return;
      }

      // Host passes through unchanged: distribution builds absolute upload Locations from it, so they point back here.
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers:
            fault !== undefined && 'dropRequestHeaders' in fault
              ? Object.fromEntries(
                  Object.entries(withoutHopByHop(req.headers)).filter(
                    ([name]) => !fault.dropRequestHeaders.includes(name),
                  ),
                )
              : withoutHopByHop(req.headers),
          agent,
        },
        (upstreamRes) => {
          record.status = upstreamRes.statusCode ?? 0;
          const added = fault !== undefined && 'addHeaders' in fault ? fault.addHeaders : {};
          res.writeHead(upstreamRes.statusCode ?? 502, { ...withoutHopByHop(upstreamRes.headers), ...added });
          if (fault !== undefined && 'stallAfterBytes' in fault) {
            let sent = 0;
            upstreamRes.on('data', (chunk: Buffer) => {
              const room = fault.stallAfterBytes - sent;
              if (room > 0) res.write(chunk.subarray(0, room));
              sent += chunk.length;
              // Stop reading too: the upstream registry sees a slow client, the downstream one a silent server.
              if (sent >= fault.stallAfterBytes) upstreamRes.pause();
            });
            res.on('close', () => upstreamRes.destroy());
            return;
          }
          if (fault !== undefined && 'drip' in fault) {
            let pending = Buffer.alloc(0);
            let ended = false;
            upstreamRes.on('data', (chunk: Buffer) => (pending = Buffer.concat([pending, chunk])));
            upstreamRes.on('end', () => (ended = true));
            const timer = setInterval(() => {
              if (pending.length > 0) {
                res.write(pending.subarray(0, fault.drip.bytes));
                pending = pending.subarray(fault.drip.bytes);
              }
              if (ended && pending.length === 0) {
                clearInterval(timer);
                res.end();
              }
            }, fault.drip.intervalMs);
            res.on('close', () => {
              clearInterval(timer);
              upstreamRes.destroy();
            });
            return;
          }
          const limit = fault !== undefined && 'resetAfterBytes' in fault ? fault.resetAfterBytes : undefined;
          const hard = fault !== undefined && 'resetAfterBytes' in fault && fault.hard === true;
          if (limit === undefined) {
            upstreamRes.pipe(res);
            return;
          }
          let sent = 0;
          upstreamRes.on('data', (chunk: Buffer) => {
            const room = limit - sent;
            if (room > 0) res.write(chunk.subarray(0, room));
            const before = sent;
            sent += chunk.length;
            if (sent >= limit && before < limit) {
              upstreamRes.destroy();
              // Let the partial body reach the client before the connection drops (or is reset: RST, not FIN).
              if (hard) res.write('', () => res.socket?.resetAndDestroy());
              else res.socket?.end(() => res.socket?.destroy());
            }
          });
          upstreamRes.on('end', () => res.end());
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) {
          record.status = 502;
          res.writeHead(502, { 'content-length': '0' }).end();
        } else {
          res.destroy();
        }
      });
      req.on('error', () => upstream.destroy());
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    }
  });

  const port = await listen(server);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    reset() {
      requests.length = 0;
    },
    stop() {
      stopping ??= close(server).finally(() => agent.destroy());
      return stopping;
    },
  };
}

export interface BlobOrigin {
  /** http://127.0.0.1:PORT; blobs are at /blobs/sha256/<hex> (any query, e.g. a signature, is ignored). */
  url: string;
  requests: Array<{ path: string; authorization: boolean }>;
  stop(): Promise<void>;
}

/**
 * Serves the builder's blobs from another origin, as object storage does after a registry's 307. A client must
 * not forward the registry's Authorization there; `requests` records whether it did. Honours a single
 * `Range: bytes=a-b` so resumed downloads can be tested.
 */
export async function startBlobOrigin(builder: ImageBuilder): Promise<BlobOrigin> {
  const requests: BlobOrigin['requests'] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, authorization: req.headers.authorization !== undefined });
    const match = /^\/blobs\/sha256\/([a-f0-9]{64})(?:\?.*)?$/.exec(path);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || match === null) {
      res.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    const file = builder.blobPath(`sha256:${match[1]}`);
    stat(file).then(
      ({ size }) => {
        let start = 0;
        let end = size - 1;
        let status = 200;
        const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
        if (range !== null && (range[1] !== '' || range[2] !== '')) {
          if (range[1] === '') start = Math.max(0, size - Number(range[2]));
          else {
            start = Number(range[1]);
            if (range[2] !== '') end = Math.min(end, Number(range[2]));
          }
          if (start > end) {
            res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': '0' }).end();
            return;
          }
          status = 206;
        }
        res.writeHead(status, {
          'content-type': 'application/octet-stream',
          'content-length': String(end - start + 1),
          'accept-ranges': 'bytes',
          ...(status === 206 && { 'content-range': `bytes ${start}-${end}/${size}` }),
        });
        if (req.method === 'HEAD' || size === 0) res.end();
        else createReadStream(file, { start, end }).pipe(res);
      },
      () => res.writeHead(404, { 'content-length': '0' }).end(),
    );
  });
  const port = await listen(server);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop() {
      stopping ??= close(server);
      return stopping;
    },
  };
}

function redact(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = name === 'authorization' ? `${text.split(' ')[0]} <redacted>` : text;
  }
  return out;
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function listen(server: Server): Promise<number> {
  // A forgotten server must not keep the test process alive, nor its idle keep-alive connections; whoever is
  // talking to it (a socket in this process, or a child process) keeps the process alive meanwhile.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('server has no TCP address'));
      else resolve(address.port);
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
