import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * A registry that keeps what it received of an interrupted upload, as the distribution spec lets a client resume
 * ("Pushing a blob in chunks": `GET` on the upload URL answers 204 with `Range: 0-<last byte>`). distribution 2.8
 * does not: a PATCH cut mid-body leaves its session unusable (404 BLOB_UPLOAD_INVALID), which the tests show with
 * the real server. This one implements only what a push needs — blob and manifest HEAD, uploads (POST, PATCH with
 * Content-Range, GET, PUT ?digest=), manifest PUT — in memory, anonymous, plain HTTP, for tests of resumption.
 */

export interface ResumableRegistry {
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly url: string;
  /** Requests as `METHOD path`, in order. */
  readonly requests: string[];
  /** Stored blobs by digest. */
  readonly blobs: Map<string, Buffer>;
  /** Stored manifests by `repository:reference`. */
  readonly manifests: Map<string, Buffer>;
  /** Forget the session on the next GET of its upload URL (a registry that lost it). */
  loseSessions: boolean;
  stop(): Promise<void>;
}

export async function startResumableRegistry(): Promise<ResumableRegistry> {
  const uploads = new Map<string, Buffer[]>();
  /** A PATCH still being received, per session: the status of a session is given once it has settled. */
  const receiving = new Map<string, Promise<void>>();
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const requests: string[] = [];
  const state = { loseSessions: false };
  const size = (id: string): number => uploads.get(id)!.reduce((n, b) => n + b.length, 0);
  const server: Server = createServer((req, res) => {
    // A client that hangs up mid-body is what these tests are about; its bytes stay, the error is not ours.
    req.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://registry');
    requests.push(`${req.method} ${url.pathname}`);
    const reply = (status: number, headers: Record<string, string> = {}, body = ''): void => {
      res
        .writeHead(status, {
          'content-length': String(Buffer.byteLength(body)),
          'docker-distribution-api-version': 'registry/2.0',
          ...headers,
        })
        .end(body);
    };
    const fail = (status: number, code: string): void =>
      reply(
        status,
        { 'content-type': 'application/json' },
        JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }),
      );
    let match: RegExpExecArray | null;
    if (url.pathname === '/v2/' || url.pathname === '/v2') return reply(200);
    if ((match = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(url.pathname)) && req.method === 'POST') {
      req.resume();
      const mounted = url.searchParams.get('mount');
      if (mounted && blobs.has(mounted))
        return reply(201, { location: `/v2/${match[1]}/blobs/${mounted}`, 'docker-content-digest': mounted });
      const id = randomUUID();
      uploads.set(id, []);
      return reply(202, { location: `/v2/${match[1]}/blobs/uploads/${id}`, range: '0-0', 'docker-upload-uuid': id });
    }
    if ((match = /^\/v2\/(.+)\/blobs\/uploads\/([0-9a-f-]+)$/.exec(url.pathname))) {
      const [, name, id] = match as unknown as [string, string, string];
      const parts = uploads.get(id);
      const here = `/v2/${name}/blobs/uploads/${id}`;
      if (!parts) {
        req.resume();
        return fail(404, 'BLOB_UPLOAD_UNKNOWN');
      }
      if (req.method === 'GET') {
        void (receiving.get(id) ?? Promise.resolve()).then(() => status());
        return;
      }
      function status(): void {
        if (state.loseSessions) {
          uploads.delete(id);
          return fail(404, 'BLOB_UPLOAD_UNKNOWN');
        }
        const n = size(id);
        return reply(204, { location: here, range: n === 0 ? '0-0' : `0-${n - 1}`, 'docker-upload-uuid': id });
      }
      if (req.method === 'PATCH') {
        const range = /^(\d+)-(\d+)$/.exec(req.headers['content-range'] ?? '');
        if (range && Number(range[1]) !== size(id)) {
          // Not read: the connection closes after the answer, so the client stops sending the rest.
          return reply(416, { location: here, range: `0-${size(id) - 1}`, connection: 'close' });
        }
        // Every byte that arrives is kept, whether or not the request completes.
        req.on('data', (chunk: Buffer) => parts.push(Buffer.from(chunk)));
        receiving.set(id, new Promise<void>((settled) => req.on('close', () => settled())));
        req.on('end', () => reply(202, { location: here, range: `0-${size(id) - 1}`, 'docker-upload-uuid': id }));
        return;
      }
      if (req.method === 'PUT') {
        req.on('data', (chunk: Buffer) => parts.push(Buffer.from(chunk)));
        req.on('end', () => {
          const bytes = Buffer.concat(parts);
          const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
          if (digest !== url.searchParams.get('digest')) return fail(400, 'DIGEST_INVALID');
          uploads.delete(id);
          blobs.set(digest, bytes);
          reply(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
        });
        return;
      }
    }
    if ((match = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)) && req.method === 'HEAD') {
      const blob = blobs.get(match[2]!);
      return blob ? reply(200, { 'docker-content-digest': match[2]! }) : reply(404);
    }
    if ((match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname))) {
      const key = `${match[1]}:${match[2]}`;
      if (req.method === 'HEAD' || req.method === 'GET') {
        req.resume();
        const bytes = manifests.get(key);
        if (!bytes) return fail(404, 'MANIFEST_UNKNOWN');
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        res.writeHead(200, {
          'content-length': String(bytes.length),
          'docker-content-digest': digest,
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
        });
        return void res.end(req.method === 'GET' ? bytes : undefined);
      }
      if (req.method === 'PUT') {
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => parts.push(chunk));
        req.on('end', () => {
          const bytes = Buffer.concat(parts);
          const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
          manifests.set(key, bytes);
          manifests.set(`${match![1]}:${digest}`, bytes);
          reply(201, { 'docker-content-digest': digest, location: `/v2/${match![1]}/manifests/${digest}` });
        });
        return;
      }
    }
    req.resume();
    fail(404, 'UNSUPPORTED');
  });
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
      else resolve(address.port);
    });
  });
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    blobs,
    manifests,
    get loseSessions() {
      return state.loseSessions;
    },
    set loseSessions(value: boolean) {
      state.loseSessions = value;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
