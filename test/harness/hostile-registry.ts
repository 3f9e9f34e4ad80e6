import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TestCertificates } from './tls.js';

/**
 * A programmable malicious registry on 127.0.0.1 (plain HTTP or TLS) for the hostile-registry suite. By default it
 * is an honest, minimal Registry V2 server over content held in memory (manifests by digest and tag, blobs, tag
 * lists, no referrers API); a test replaces any answer with `handle`, which sees every request first and returns
 * true when it answered. Helpers write the classic hostile bodies: endless, dripping, oversized, lying about their
 * length. Every request is recorded with its full Authorization header, so a test can see which credential a
 * server was offered.
 */

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface HostileRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  readonly url: URL;
  /** The whole Authorization header value (test servers only: the suite checks which secret went where). */
  readonly authorization: string | undefined;
  readonly at: number;
}

/** Answers a request itself and returns true, or returns false to let the default registry behaviour answer. */
export type HostileHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  request: HostileRequest,
  server: HostileRegistry,
) => boolean | Promise<boolean>;

export interface HostileRegistryOptions {
  readonly tls?: TestCertificates;
  readonly handle?: HostileHandler;
  /**
   * Ask for credentials: Basic (username/password checked), or Bearer with a challenge naming `realm` and `service`
   * (the token itself is checked against `token`). Without it everything is anonymous.
   */
  readonly auth?:
    | { readonly kind: 'basic'; readonly username: string; readonly password: string }
    | {
        readonly kind: 'bearer';
        readonly realm: string | (() => string);
        readonly service: string;
        readonly token: string;
      };
}

export interface BuiltImage {
  readonly digest: string;
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly blobs: readonly Buffer[];
}

export interface HostileRegistry {
  /** http(s)://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly requests: HostileRequest[];
  /** Bytes written to response bodies by the helpers below (endless, drip, oversized), for checks on how much was read. */
  bodyBytesSent: number;
  /** Adds a blob; returns its digest. */
  addBlob(bytes: Buffer): string;
  /** Adds a manifest (by digest, and under each tag given). */
  addManifest(repository: string, bytes: Buffer, mediaType: string, tags?: readonly string[]): string;
  /** A small single-layer OCI image, distinct per `seed`, stored and tagged. */
  addImage(repository: string, tag: string, seed: string): BuiltImage;
  /** What `GET /v2/<repository>/tags/list` answers by default. */
  tags(repository: string): string[];
  stop(): Promise<void>;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One image's bytes (config, one layer, manifest), different for every seed; nothing is stored. */
export function buildImage(seed: string): BuiltImage {
  const layer = Buffer.concat([Buffer.from(`layer ${seed}\n`), randomBytes(512)]);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      config: { Labels: { seed } },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: sha256(config), size: config.length },
      layers: [{ mediaType: MEDIA.ociLayer, digest: sha256(layer), size: layer.length }],
    }),
  );
  return { digest: sha256(manifest), bytes: manifest, mediaType: MEDIA.ociManifest, blobs: [config, layer] };
}

/** An OCI index over `children` descriptors, as bytes (descriptors are written as given: a test may lie in them). */
export function indexBytes(
  children: ReadonlyArray<{ digest: string; size: number; mediaType?: string; platform?: unknown }>,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: children.map((c) => ({
        mediaType: c.mediaType ?? MEDIA.ociManifest,
        digest: c.digest,
        size: c.size,
        ...(c.platform ? { platform: c.platform } : {}),
      })),
    }),
  );
}

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/([^?]*)$/;

export async function startHostileRegistry(options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  const tagLists = new Map<string, string[]>();
  const sockets = new Set<Socket>();
  const requests: HostileRequest[] = [];
  let registry!: HostileRegistry;

  const authorized = (req: IncomingMessage): boolean => {
    const auth = options.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    if (auth.kind === 'basic')
      return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return header === `Bearer ${auth.token}`;
  };
  const challenge = (): string => {
    const auth = options.auth!;
    if (auth.kind === 'basic') return 'Basic realm="hostile"';
    const realm = typeof auth.realm === 'function' ? auth.realm() : auth.realm;
    return `Bearer realm="${realm}",service="${auth.service}"`;
  };

  const defaultAnswer = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    if (!authorized(req)) {
      res.writeHead(401, {
        'www-authenticate': challenge(),
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    const route = ROUTE.exec(url.pathname);
    const notFound = (code: string) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code, message: 'not found' }] }));
    };
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound('UNSUPPORTED');
    const [, repository, kind, ref] = route as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const found = manifests.get(`${repository}@${ref}`);
      if (!found) return notFound('MANIFEST_UNKNOWN');
      res.writeHead(200, {
        'content-type': found.mediaType,
        'content-length': found.bytes.length,
        'docker-content-digest': sha256(found.bytes),
      });
      res.end(req.method === 'HEAD' ? undefined : found.bytes);
      return;
    }
    if (kind === 'blobs') {
      const found = blobs.get(ref);
      if (!found) return notFound('BLOB_UNKNOWN');
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': found.length,
        'docker-content-digest': ref,
      });
      res.end(req.method === 'HEAD' ? undefined : found);
      return;
    }
    if (kind === 'tags' && ref === 'list') {
      const tags = tagLists.get(repository);
      if (!tags) return notFound('NAME_UNKNOWN');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: repository, tags }));
      return;
    }
    notFound('UNSUPPORTED');
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: HostileRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      url,
      authorization: req.headers.authorization,
      at: Date.now(),
    };
    requests.push(recorded);
    res.on('error', () => undefined);
    req.resume();
    Promise.resolve(options.handle?.(req, res, recorded, registry) ?? false)
      .then((handled) => {
        if (!handled) defaultAnswer(req, res, url);
      })
      .catch(() => res.destroy());
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.certificate), key: readFileSync(options.tls.key) }, listener)
    : createHttpServer(listener);
  // A hostile server answers forever; the client must be the one to give up, and stop() must not wait for it.
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';

  registry = {
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    bodyBytesSent: 0,
    addBlob(bytes) {
      const digest = sha256(bytes);
      blobs.set(digest, bytes);
      return digest;
    },
    addManifest(repository, bytes, mediaType, tags = []) {
      const digest = sha256(bytes);
      manifests.set(`${repository}@${digest}`, { bytes, mediaType });
      const list = tagLists.get(repository) ?? [];
      for (const tag of tags) {
        manifests.set(`${repository}@${tag}`, { bytes, mediaType });
        if (!list.includes(tag)) list.push(tag);
      }
      tagLists.set(repository, list);
      return digest;
    },
    addImage(repository, tag, seed) {
      const image = buildImage(seed);
      for (const blob of image.blobs) registry.addBlob(blob);
      registry.addManifest(repository, image.bytes, image.mediaType, [tag]);
      return image;
    },
    tags(repository) {
      return tagLists.get(repository) ?? [];
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return registry;
}

/**
 * Writes `chunk` again and again, honouring back-pressure, until the client goes away (or `limit` bytes, a safety
 * net for a broken client under test). Resolves with the bytes written.
 */
export function writeEndless(
  registry: HostileRegistry,
  res: ServerResponse,
  chunk: Buffer,
  limit = 8 * 1024 ** 3,
): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve(sent);
    });
    const pump = (): void => {
      while (!closed && sent < limit) {
        sent += chunk.length;
        registry.bodyBytesSent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  });
}

/** Writes `bytes` a few at a time, one slice every `intervalMs`, then ends (or stops when the client leaves). */
export function writeDrip(
  registry: HostileRegistry,
  res: ServerResponse,
  bytes: Buffer,
  slice: number,
  intervalMs: number,
): void {
  let offset = 0;
  const timer = setInterval(() => {
    if (res.destroyed || offset >= bytes.length) {
      clearInterval(timer);
      if (!res.destroyed) res.end();
      return;
    }
    const part = bytes.subarray(offset, offset + slice);
    offset += part.length;
    registry.bodyBytesSent += part.length;
    res.write(part);
  }, intervalMs);
  res.on('close', () => clearInterval(timer));
}
