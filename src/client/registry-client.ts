import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { CredentialSource, RegistryAccess } from '../config/credentials.js';
import { describeError, SwrSyncError } from '../errors.js';
import { digestAlgorithm, digestOf } from '../oci/digest.js';
import { MANIFEST_ACCEPT, MANIFEST_MAX_BYTES, MediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { DOCKER_HUB } from '../oci/reference.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { BlobBody } from './image-store.js';
import { isQuotaRequest, RegistryLimiter } from './rate-limit.js';
import { HeadAgents } from './head-request.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableNetworkError, isRetryableStatus, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';

/**
 * The one class at the network edge: a client for the OCI Distribution Spec v1.1 / Docker Registry HTTP API V2
 * over undici. It owns authentication (anonymous, Basic, Bearer tokens from the `WWW-Authenticate` challenge),
 * retries, redirects, the plain-HTTP fallback of `insecure` registries and the upload protocol. Everything above it
 * (engine, planner) speaks in repositories, references, digests and streams.
 */

/** `pull` for sources, `push` (= pull,push) for destinations. */
export type Access = 'pull' | 'push';

export interface ManifestHead {
  readonly digest: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string | undefined;
  readonly digest: string;
}

export interface RequestEvent {
  readonly registry: string;
  readonly method: string;
  /** Path and query, never the credential. */
  readonly path: string;
  readonly status: number | undefined;
}

export type UploadMode = 'auto' | 'monolithic' | 'chunked';

export interface RegistryClientOptions {
  /** Where credentials come from, matched by exact host. @default anonymous */
  readonly credentials?: CredentialSource;
  /** Registries that may be plain HTTP or have unverified TLS, besides those marked `insecure` in the credentials. */
  readonly insecure?: (registry: string) => boolean;
  readonly retry?: Partial<RetryPolicy>;
  /** Share connection pools between clients (e.g. the source and destination client of one run). */
  readonly transport?: Transport;
  /** `auto`: one monolithic PUT per blob, chunked PATCH when a registry refuses that. @default 'auto' */
  readonly uploadMode?: UploadMode;
  /** PATCH size in chunked uploads (raised to the registry's `OCI-Chunk-Min-Length`). @default 16 MiB */
  readonly chunkSize?: number;
  readonly userAgent?: string;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly signal?: AbortSignal;
  /** Per-host rates, bandwidth and quota pacing; share one between the clients of a run. @default unlimited, with pacing */
  readonly limiter?: RegistryLimiter;
}

export interface TransportOptions {
  /** Longest silence on a connection (no response headers, or no body bytes) before the request fails. @default 60 s */
  readonly stallTimeoutMs?: number;
  /** Connections per origin. @default 32 */
  readonly connections?: number;
}

/** Keep-alive connection pools: one verifying TLS, one for `insecure` registries. */
export class Transport {
  readonly verified: Agent;
  readonly unverified: Agent;
  readonly heads: HeadAgents;
  constructor(options: TransportOptions = {}) {
    const common = {
      connections: options.connections ?? 32,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.stallTimeoutMs ?? 60_000,
      bodyTimeout: options.stallTimeoutMs ?? 60_000,
    };
    this.verified = new Agent(common);
    this.unverified = new Agent({ ...common, connect: { rejectUnauthorized: false } });
    this.heads = new HeadAgents({ connections: common.connections, timeoutMs: common.headersTimeout });
  }
  async close(): Promise<void> {
    this.heads.close();
    await Promise.all([this.verified.close(), this.unverified.close()]);
  }
}

interface Endpoint {
  readonly registry: string;
  /** Host that serves the API: Docker Hub's is registry-1.docker.io. */
  readonly host: string;
  insecure: boolean;
  readonly scheme: 'https' | 'http';
  challenge: Challenge | undefined;
  /**
   * Whether the registry has answered once, so its challenge (or that it has none) is known. Until then one request
   * goes first and the others wait for its answer: a run that starts 32 checks at once would otherwise collect 32
   * 401s to learn the same challenge.
   */
  discovered: boolean;
  /** The first request's answer, while it is awaited. */
  discovery: Promise<void> | undefined;
  /** Set once a registry refused a monolithic upload; later uploads go straight to chunked. */
  chunkedOnly: boolean;
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

type Body = Buffer | (() => Readable);

interface Exchange {
  readonly registry: string;
  readonly repository: string;
  readonly access: Access;
  /** Extra token scopes, e.g. pull on the source repository of a mount. */
  readonly extraScopes?: readonly string[];
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the origin, or an absolute URL (upload locations). */
  readonly target: string;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
  /** Statuses returned to the caller with the body unread; anything else is an error. */
  readonly expect: readonly number[];
  readonly followRedirects?: boolean;
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
  /** Final URL (after redirects). */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const ERROR_BODY_LIMIT = 16 * 1024;
const TOKEN_MIN_LIFETIME_S = 60;
const PROBE_TIMEOUT_MS = 10_000;
/** Repositories per token request when the run announced them (token.md: several `scope` parameters). */
const TOKEN_BATCH = 8;

export class RegistryClient {
  readonly retry: RetryPolicy;
  readonly uploadMode: UploadMode;
  readonly chunkSize: number;
  private readonly options: RegistryClientOptions;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly endpoints = new Map<string, Promise<Endpoint>>();
  private readonly accessCache = new Map<string, Promise<RegistryAccess | undefined>>();
  private readonly tokens = new Map<string, Promise<Token>>();
  /** Repositories announced for this run, per registry and access, not yet given a token: see `announceRepositories`. */
  private readonly upcoming = new Map<string, string[]>();
  /** The credential source of each `registry/repository` whose lookup has finished: batching decides without awaiting. */
  private readonly accessSources = new Map<string, string | undefined>();
  /** Token keys whose token was refused by the registry: asked for alone from then on. */
  private readonly unbatched = new Set<string>();
  /** Requests sent per registry host (token requests count under the registry they serve). */
  readonly requestCounts = new Map<string, number>();
  readonly limiter: RegistryLimiter;
  private retried = 0;

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.retry = {
      ...DEFAULT_RETRY_POLICY,
      ...options.retry,
      onRetry: () => {
        this.retried++;
        options.retry?.onRetry?.();
      },
    };
    this.uploadMode = options.uploadMode ?? 'auto';
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport ?? new Transport();
    this.limiter = options.limiter ?? new RegistryLimiter();
  }

  /** Requests, and whole transfers (through `retry.onRetry`), tried again after a transient failure so far. */
  get retryCount(): number {
    return this.retried;
  }

  async close(): Promise<void> {
    if (this.ownsTransport) await this.transport.close();
  }

  /**
   * Tells the client which repositories of `registry` this run will visit, in the order it will visit them. A Bearer
   * token is then asked for several of them at once (token.md allows several `scope` parameters), so N repositories
   * cost about N / TOKEN_BATCH token requests instead of N — round trips that count on a WAN. A token server that
   * grants only part of a batch, or refuses it, costs a single-scope request for the repositories left out.
   */
  announceRepositories(registry: string, repositories: Iterable<string>, access: Access): void {
    const key = `${registry}\n${access}`;
    const list = this.upcoming.get(key) ?? [];
    const known = new Set(list);
    for (const repository of repositories) {
      if (!known.has(repository)) {
        known.add(repository);
        list.push(repository);
        // Looked up now, so a token request can pick its companions without waiting (lookups are cached per host).
        this.access(registry, repository).catch(() => undefined);
      }
    }
    this.upcoming.set(key, list);
  }

  // ---- manifests (distribution-spec "Pulling manifests", "Pushing Manifests") ----

  /** HEAD a manifest: its digest without a GET (a Docker Hub pull is counted only on GET). Undefined on 404. */
  async headManifest(registry: string, repository: string, ref: string, access: Access = 'pull'): Promise<ManifestHead | undefined> {
    const res = await this.exchange({
      registry, repository, access, method: 'HEAD', target: `/v2/${repository}/manifests/${ref}`,
      headers: { accept: MANIFEST_ACCEPT }, expect: [200, 404],
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const length = header(res.headers, 'content-length');
    return {
      digest: header(res.headers, 'docker-content-digest'),
      mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(),
      size: length === undefined ? undefined : Number(length),
    };
  }

  /**
   * GET a manifest as bytes, refusing more than 4 MiB, and check its digest: against the reference when pulled
   * by digest, and against `Docker-Content-Digest` when the registry sends it.
   */
  async getManifest(registry: string, repository: string, ref: string, access: Access = 'pull'): Promise<FetchedManifest> {
    const res = await this.exchange({
      registry, repository, access, method: 'GET', target: `/v2/${repository}/manifests/${ref}`,
      headers: { accept: MANIFEST_ACCEPT }, expect: [200],
    });
    const where = { registry, repository };
    const declared = Number(header(res.headers, 'content-length') ?? '0');
    if (declared > MANIFEST_MAX_BYTES) {
      res.body.destroy();
      throw new SwrSyncError('ERR_MANIFEST_TOO_LARGE', `manifest ${display(registry, repository, ref)} is ${declared} bytes; at most ${MANIFEST_MAX_BYTES} are accepted`, where);
    }
    const bytes = await readLimited(res.body, MANIFEST_MAX_BYTES, () =>
      new SwrSyncError('ERR_MANIFEST_TOO_LARGE', `manifest ${display(registry, repository, ref)} exceeds ${MANIFEST_MAX_BYTES} bytes`, where));
    const sent = header(res.headers, 'docker-content-digest');
    const pinned = ref.includes(':') ? ref : undefined;
    const algorithm = pinned ? digestAlgorithm(pinned) : sent?.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = digestOf(bytes, algorithm);
    for (const [what, expected] of [['requested digest', pinned], ['Docker-Content-Digest', sent]] as const) {
      if (expected !== undefined && digestAlgorithm(expected) === algorithm && expected !== digest) {
        throw new SwrSyncError('ERR_DIGEST_MISMATCH',
          `manifest ${display(registry, repository, ref)}: expected ${what} ${expected}, found content with digest ${digest}`,
          { ...where, retryable: true });
      }
    }
    return { bytes, mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(), digest };
  }

  /** PUT a manifest verbatim; returns the digest the registry stored, checked against the bytes sent. */
  async putManifest(registry: string, repository: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.exchange({
      registry, repository, access: 'push', method: 'PUT', target: `/v2/${repository}/manifests/${ref}`,
      headers: { 'content-type': mediaType }, body: bytes, expect: [200, 201, 202],
    });
    await res.body.dump();
    const expected = digestOf(bytes, ref.startsWith('sha512:') ? 'sha512' : 'sha256');
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && digestAlgorithm(stored) === digestAlgorithm(expected) && stored !== expected) {
      throw new SwrSyncError('ERR_DIGEST_MISMATCH',
        `${display(registry, repository, ref)}: the registry stored the manifest as ${stored}, expected ${expected} (it rewrote the bytes)`,
        { registry, repository });
    }
    return stored ?? expected;
  }

  /** Tags of a repository, following `Link` pagination (distribution-spec "Listing Tags"). */
  async listTags(registry: string, repository: string, access: Access = 'pull'): Promise<string[]> {
    const tags: string[] = [];
    let target: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    for (let page = 0; target !== undefined && page < 10_000; page++) {
      const res: Response = await this.exchange({ registry, repository, access, method: 'GET', target, expect: [200, 404] });
      if (res.status === 404) {
        await res.body.dump();
        return tags;
      }
      const body = JSON.parse((await readLimited(res.body, 64 * 1024 * 1024, () =>
        new SwrSyncError('ERR_REGISTRY_RESPONSE', `tag list of ${registry}/${repository} is too large`, { registry, repository }))).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      target = nextPage(res);
    }
    return tags;
  }

  /**
   * Referrers of a manifest (distribution-spec v1.1 "Listing Referrers"): descriptors of the manifests in this
   * repository whose `subject` is `digest`, following `Link` pagination. Undefined when the registry answers 404: a
   * registry with the API never does, so the caller falls back to the referrers tag schema (`sha256-<hex>`).
   */
  async listReferrers(registry: string, repository: string, digest: string, access: Access = 'pull'): Promise<Descriptor[] | undefined> {
    const where = { registry, repository };
    const referrers: Descriptor[] = [];
    let target: string | undefined = `/v2/${repository}/referrers/${digest}`;
    for (let page = 0; target !== undefined && page < 10_000; page++) {
      const res: Response = await this.exchange({
        registry, repository, access, method: 'GET', target, headers: { accept: MediaType.OciIndex }, expect: page === 0 ? [200, 404] : [200],
      });
      if (res.status === 404) {
        await res.body.dump();
        return undefined;
      }
      const bytes = await readLimited(res.body, MANIFEST_MAX_BYTES, () =>
        new SwrSyncError('ERR_MANIFEST_TOO_LARGE', `referrers list of ${display(registry, repository, digest)} exceeds ${MANIFEST_MAX_BYTES} bytes per page`, where));
      const index = parseManifest(bytes, MediaType.OciIndex, where);
      if (index.kind !== 'index') throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `referrers list of ${display(registry, repository, digest)} is not an image index`, where);
      referrers.push(...index.manifests);
      target = nextPage(res);
    }
    return referrers;
  }

  // ---- blobs (distribution-spec "Pulling blobs", "Pushing blobs") ----

  async hasBlob(registry: string, repository: string, digest: string, access: Access = 'pull'): Promise<boolean> {
    const res = await this.exchange({
      registry, repository, access, method: 'HEAD', target: `/v2/${repository}/blobs/${digest}`, expect: [200, 404],
    });
    await res.body.dump();
    return res.status === 200;
  }

  /**
   * Opens a blob for streaming, following redirects (credentials are not sent to another origin). With `offset`, asks
   * for the bytes from there on (`Range: bytes=N-`, RFC 9110 §14.2); a server that ignores the range answers 200 with
   * the whole blob, and the answer's `offset` is then 0.
   */
  async getBlob(registry: string, repository: string, digest: string, offset = 0): Promise<BlobBody> {
    const res = await this.exchange({
      registry, repository, access: 'pull', method: 'GET', target: `/v2/${repository}/blobs/${digest}`,
      ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
      expect: offset > 0 ? [200, 206] : [200], followRedirects: true,
    });
    const length = header(res.headers, 'content-length');
    let starts = 0;
    if (res.status === 206) {
      // RFC 9110 §14.4: `bytes first-last/complete`; anything else is not the part asked for.
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range')?.trim() ?? '');
      if (!range || Number(range[1]) !== offset) {
        res.body.destroy();
        throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `blob ${digest} from ${registry}/${repository}: asked for bytes from ${offset}, got Content-Range "${header(res.headers, 'content-range') ?? ''}"`, { registry, repository, status: 206, retryable: true });
      }
      starts = offset;
    }
    return { body: this.limiter.pace(registry, res.body), size: length === undefined ? undefined : Number(length), offset: starts };
  }

  /**
   * Cross-repository mount (distribution-spec "Mounting a blob from another repository"): 201 means the blob is
   * now in `repository`; 202 means the registry opened an ordinary upload session instead, whose location is
   * returned so the caller can upload into it without another POST.
   */
  async mountBlob(registry: string, repository: string, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const res = await this.exchange({
      registry, repository, access: 'push', extraScopes: from === repository ? [] : [`repository:${from}:pull`], method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201, 202],
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true };
    return { mounted: false, location: this.location(res, registry, repository) };
  }

  /**
   * Uploads a blob whose digest and size are known: POST then one streaming monolithic PUT with Content-Length
   * (2 requests), falling back to chunked PATCH uploads when the registry refuses a monolithic PUT.
   * `open` is called once per attempt and must return the blob's bytes from the start.
   */
  async uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: () => Promise<Readable>,
    location?: string,
  ): Promise<void> {
    const endpoint = await this.endpoint(registry, repository);
    if (this.uploadMode === 'chunked' || endpoint.chunkedOnly) {
      return this.uploadChunked(registry, repository, digest, size, open, location);
    }
    const start = location ?? (await this.startUpload(registry, repository)).location;
    const body = this.limiter.pace(registry, await open());
    let res: Response;
    try {
      res = await this.exchange({
        registry, repository, access: 'push', method: 'PUT', target: withQuery(start, 'digest', digest),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => body, expect: [201, 204, 400, 404, 405, 411, 413, 415, 501],
      });
    } catch (error) {
      body.destroy();
      throw error;
    }
    if (res.status === 201 || res.status === 204) {
      await res.body.dump();
      return;
    }
    const detail = await errorDetail(res);
    body.destroy();
    // distribution-spec: an upload session may expire or be lost (404 BLOB_UPLOAD_UNKNOWN); a new one can succeed.
    if (res.status === 404) {
      throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: upload session for ${digest} was lost (404 ${detail})`, { registry, repository, status: 404, retryable: true });
    }
    // A digest the registry computed differently is not a reason to retry in chunks.
    if (res.status === 400 && /DIGEST_INVALID/.test(detail)) {
      throw new SwrSyncError('ERR_DIGEST_MISMATCH', `${registry}/${repository}: the registry rejected blob ${digest}: ${detail}`, { registry, repository, status: 400, retryable: true });
    }
    if (this.uploadMode === 'monolithic') {
      throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: monolithic upload of ${digest} refused (${res.status} ${detail})`, { registry, repository, status: res.status });
    }
    endpoint.chunkedOnly = true;
    await this.uploadChunked(registry, repository, digest, size, open);
  }

  private async startUpload(registry: string, repository: string): Promise<{ location: string; minChunk: number }> {
    const res = await this.exchange({
      registry, repository, access: 'push', method: 'POST', target: `/v2/${repository}/blobs/uploads/`,
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [202],
    });
    await res.body.dump();
    return { location: this.location(res, registry, repository), minChunk: Number(header(res.headers, 'oci-chunk-min-length') ?? '0') };
  }

  /** Chunked upload (distribution-spec "Pushing a blob in chunks"): PATCHes with Content-Range, then PUT ?digest=. */
  private async uploadChunked(registry: string, repository: string, digest: string, size: number, open: () => Promise<Readable>, existing?: string): Promise<void> {
    const session = existing === undefined ? await this.startUpload(registry, repository) : { location: existing, minChunk: 0 };
    const chunkSize = Math.max(this.chunkSize, session.minChunk || 0);
    let location = session.location;
    let offset = 0;
    const body = this.limiter.pace(registry, await open());
    try {
      for await (const chunk of chunks(body, chunkSize)) {
        const res = await this.exchange({
          registry, repository, access: 'push', method: 'PATCH', target: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(chunk.length),
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk, expect: [202],
        });
        await res.body.dump();
        location = this.location(res, registry, repository);
        offset += chunk.length;
      }
    } finally {
      body.destroy();
    }
    if (offset !== size) {
      throw new SwrSyncError('ERR_SIZE_MISMATCH', `blob ${digest}: expected ${size} bytes, found ${offset}`, { registry, repository, retryable: true });
    }
    const res = await this.exchange({
      registry, repository, access: 'push', method: 'PUT', target: withQuery(location, 'digest', digest),
      headers: { 'content-length': '0' }, body: Buffer.alloc(0), expect: [201, 204],
    });
    await res.body.dump();
  }

  private location(res: Response, registry: string, repository: string): string {
    const location = header(res.headers, 'location');
    if (!location) {
      throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${registry}/${repository}: upload response ${res.status} has no Location header`, { registry, repository, status: res.status });
    }
    return new URL(location, res.url).toString();
  }

  // ---- transport, auth, retries ----

  private endpoint(registry: string, repository: string): Promise<Endpoint> {
    let endpoint = this.endpoints.get(registry);
    if (!endpoint) {
      endpoint = this.openEndpoint(registry, repository);
      this.endpoints.set(registry, endpoint);
      endpoint.catch(() => this.endpoints.get(registry) === endpoint && this.endpoints.delete(registry));
    }
    return endpoint;
  }

  private async openEndpoint(registry: string, repository: string): Promise<Endpoint> {
    const access = await this.access(registry, repository);
    const insecure = access?.insecure === true || this.options.insecure?.(registry) === true;
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    const probed: { scheme: 'http' | 'https'; challenge?: Challenge } = insecure ? await this.probeScheme(registry, host) : { scheme: 'https' };
    return {
      registry,
      host,
      insecure,
      scheme: probed.scheme,
      // The ping's 401 names the scheme, realm and service: the first real request can carry credentials.
      challenge: probed.challenge,
      // A plain-HTTP registry answered the ping: what it asks for (or that it asks for nothing) is known.
      discovered: probed.scheme === 'http',
      discovery: undefined,
      chunkedOnly: false,
    };
  }

  /**
   * `insecure` means "plain HTTP or unverified TLS" (image-migrator auth.json). One unauthenticated ping decides:
   * plain `GET /v2/` first, because every server answers it at once (a TLS port rejects it immediately), whereas
   * a TLS ClientHello sent to a plain-HTTP port can go unanswered until a timeout. A registry answers /v2/ with 200
   * or 401 and `Docker-Distribution-API-Version` (distribution-spec "Determining support"); anything else means TLS.
   */
  private async probeScheme(registry: string, host: string): Promise<{ scheme: 'http' | 'https'; challenge?: Challenge }> {
    const url = new URL(`http://${host}/v2/`);
    await this.limiter.beforeRequest(registry, false, this.options.signal);
    try {
      const res = await request(url, {
        dispatcher: this.transport.unverified,
        method: 'GET',
        headers: { 'user-agent': this.options.userAgent ?? 'swr-sync' },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      this.count(registry, 'GET', url, res.statusCode);
      await res.body.dump();
      // 429 and 5xx are plain-HTTP answers too (a TLS port answers plain HTTP with 400 or hangs up): a registry that is
      // throttling or briefly failing when first asked must not be taken for TLS for the rest of the run.
      const registryAnswer = res.statusCode === 200 || res.statusCode === 401 || res.statusCode === 429 || res.statusCode >= 500
        || res.headers['docker-distribution-api-version'] !== undefined;
      if (!registryAnswer) return { scheme: 'https' };
      const challenge = res.statusCode === 401 ? parseChallenge(res.headers['www-authenticate']) : undefined;
      return { scheme: 'http', ...(challenge ? { challenge } : {}) };
    } catch {
      this.count(registry, 'GET', url, undefined);
      return { scheme: 'https' };
    }
  }

  private access(registry: string, repository: string): Promise<RegistryAccess | undefined> {
    const key = `${registry}/${repository}`;
    let access = this.accessCache.get(key);
    if (!access) {
      access = this.options.credentials?.lookup(registry, repository) ?? Promise.resolve(undefined);
      this.accessCache.set(key, access);
      access.then((found) => this.accessSources.set(key, found?.source), () => undefined);
    }
    return access;
  }

  private async exchange(op: Exchange): Promise<Response> {
    const endpoint = await this.endpoint(op.registry, op.repository);
    const replayable = !(typeof op.body === 'function');
    let discovered: (() => void) | undefined;
    while (!endpoint.discovered) {
      if (!endpoint.discovery) {
        endpoint.discovery = new Promise<void>((resolve) => (discovered = resolve));
        break;
      }
      await endpoint.discovery;
    }
    // The first answer from the registry lets the waiting requests go; so does a failure to get one (the gate saves
    // requests, it must not make requests that fail wait for each other).
    const endDiscovery = (): void => {
      if (!discovered) return;
      endpoint.discovered = true;
      endpoint.discovery = undefined;
      discovered();
      discovered = undefined;
    };
    try {
      return await this.send(op, endpoint, replayable, endDiscovery);
    } finally {
      endDiscovery();
    }
  }

  private async send(op: Exchange, endpoint: Endpoint, replayable: boolean, endDiscovery: () => void): Promise<Response> {
    let attempt = 0;
    // One retry for learning the challenge (a request sent without credentials) and one for a refused token (expired,
    // or a token batched for several repositories that the server granted only in part).
    let challengeRetried = false;
    let tokenRetried = false;
    let redirects = 0;
    let url: URL | undefined;
    let crossOrigin = false;
    for (;;) {
      const origin = `${endpoint.scheme}://${endpoint.host}`;
      const target = url ?? new URL(op.target, origin);
      crossOrigin = target.origin !== new URL(origin).origin;
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'swr-sync', ...op.headers };
      let usedToken: string | undefined;
      if (!crossOrigin) {
        const auth = await this.authorization(endpoint, op);
        if (auth) {
          headers.authorization = auth.header;
          usedToken = auth.tokenKey;
        }
      }
      // Requests that leave the registry's origin (redirected blob reads) are limited under the host they go to.
      await this.limiter.beforeRequest(crossOrigin ? target.host : op.registry, isQuotaRequest(op.method, target.pathname), this.options.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = op.method === 'HEAD'
          ? headResponse(await this.transport.heads.head(target, { headers, insecure: endpoint.insecure, signal: this.options.signal }))
          : await request(target, {
            dispatcher: endpoint.insecure ? this.transport.unverified : this.transport.verified,
            method: op.method,
            headers,
            body: op.body === undefined ? undefined : typeof op.body === 'function' ? op.body() : op.body,
            signal: this.options.signal,
          });
      } catch (error) {
        this.count(op.registry, op.method, target, undefined);
        endDiscovery();
        if (this.options.signal?.aborted) {
          const reason = (this.options.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'the run reached its time limit (--timeout)' : 'the run was cancelled';
          throw new SwrSyncError('ERR_ABORTED', `${op.method} ${describeTarget(op, target)} aborted: ${reason}`, { registry: op.registry, repository: op.repository });
        }
        if (replayable && attempt < this.retry.retries && isRetryableNetworkError(error)) {
          this.retry.onRetry?.();
          await sleep(backoffDelay(this.retry, attempt++), this.options.signal);
          continue;
        }
        throw new SwrSyncError('ERR_REGISTRY_UNREACHABLE',
          `${op.method} ${describeTarget(op, target)}: registry ${op.registry} unreachable: ${networkCause(error)}`,
          { registry: op.registry, repository: op.repository, cause: error, retryable: isRetryableNetworkError(error) });
      }
      const status = res.statusCode;
      this.count(op.registry, op.method, target, status);
      const challenge = status === 401 && !crossOrigin ? parseChallenge(res.headers['www-authenticate']) : undefined;
      if (!crossOrigin) {
        if (challenge) endpoint.challenge = challenge;
        endDiscovery();
      }
      const quotaWait = crossOrigin ? undefined : this.limiter.afterResponse(op.registry, status, res.headers);
      const response: Response = { status, headers: res.headers, body: res.body, url: target };

      if (status === 401 && !crossOrigin) {
        await res.body.dump();
        if (usedToken) {
          this.tokens.delete(usedToken);
          this.unbatched.add(usedToken);
        }
        const mayRetry = usedToken ? !tokenRetried : !challengeRetried;
        if (mayRetry && challenge && replayable) {
          if (usedToken) tokenRetried = true;
          else challengeRetried = true;
          continue;
        }
        throw await this.unauthorized(op, 401, !replayable && !challengeRetried && !tokenRetried);
      }
      if (status === 403 && !op.expect.includes(403)) {
        // The registry's reason matters here: some answer 403 to an overwrite of an immutable tag, not to a login.
        throw await this.unauthorized(op, 403, false, await errorDetail(response));
      }
      if (op.followRedirects && REDIRECTS.has(status)) {
        const location = header(res.headers, 'location');
        await res.body.dump();
        if (!location || ++redirects > MAX_REDIRECTS) {
          throw new SwrSyncError('ERR_REGISTRY_RESPONSE', `${describeTarget(op, target)}: ${location ? 'too many redirects' : `redirect ${status} without Location`}`, { registry: op.registry, repository: op.repository, status });
        }
        url = new URL(location, target);
        continue;
      }
      if (op.expect.includes(status)) return response;
      if (replayable && attempt < this.retry.retries && isRetryableStatus(status)) {
        await res.body.dump();
        const retryAfter = quotaWait ?? parseRetryAfter(header(res.headers, 'retry-after'));
        if (retryAfter === undefined || retryAfter <= this.retry.maxRetryAfterMs) {
          this.retry.onRetry?.();
          await sleep(backoffDelay(this.retry, attempt++, retryAfter), this.options.signal);
          continue;
        }
      }
      const detail = await errorDetail(response);
      const code = status === 404 ? 'ERR_NOT_FOUND' : status === 429 ? 'ERR_TOO_MANY_REQUESTS' : 'ERR_REGISTRY_RESPONSE';
      throw new SwrSyncError(code, `${op.method} ${describeTarget(op, target)}: expected ${op.expect.join(' or ')}, got ${status}${detail ? ` ${detail}` : ''}`, {
        registry: op.registry, repository: op.repository, status, retryable: isRetryableStatus(status),
      });
    }
  }

  private count(registry: string, method: string, target: URL, status: number | undefined): void {
    this.requestCounts.set(registry, (this.requestCounts.get(registry) ?? 0) + 1);
    this.options.onRequest?.({ registry, method, path: target.pathname + target.search, status });
  }

  private async unauthorized(op: Exchange, status: 401 | 403, retryable: boolean, detail = ''): Promise<SwrSyncError> {
    const access = await this.access(op.registry, op.repository);
    const found = access?.credential ? `credentials for ${op.registry} were found (${access.source})` : `no credentials are configured for ${op.registry}`;
    const verb = op.access === 'push' ? 'push to' : 'pull from';
    return new SwrSyncError(status === 401 ? 'ERR_UNAUTHORIZED' : 'ERR_DENIED',
      `registry ${op.registry} ${status === 401 ? 'refused authentication' : 'denied access'} to ${verb} repository ${op.repository} (${status}${detail ? `: ${detail}` : ''}); ${found}`,
      { registry: op.registry, repository: op.repository, status, retryable });
  }

  private async authorization(endpoint: Endpoint, op: Exchange): Promise<{ header: string; tokenKey?: string } | undefined> {
    const challenge = endpoint.challenge;
    if (!challenge) return undefined;
    const access = await this.access(op.registry, op.repository);
    if (challenge.scheme === 'basic') {
      if (!access?.credential) return undefined;
      const { username, password } = access.credential;
      return { header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    const scopes = [repositoryScope(op.repository, op.access), ...(op.extraScopes ?? [])].sort();
    const keyOf = (scopeList: readonly string[]): string => `${access?.source ?? 'anonymous'}\n${challenge.realm}\n${challenge.service}\n${scopeList.join(' ')}`;
    const key = keyOf(scopes);
    let token = this.tokens.get(key);
    if (token) {
      const resolved = await token.catch(() => undefined);
      if (!resolved || resolved.expiresAt <= Date.now()) {
        if (this.tokens.get(key) === token) this.tokens.delete(key);
        token = undefined;
      }
    }
    if (!token) {
      // Everything up to `tokens.set` is synchronous, so concurrent requests of this repository, and of the
      // repositories batched with it, find the one fetch under their key.
      // Only a plain repository scope is batched: a mount's extra scope belongs to that one request.
      const companions = op.extraScopes?.length || this.unbatched.has(key)
        ? []
        : this.batchCompanions(op, access, (repository) => this.tokens.has(keyOf([repositoryScope(repository, op.access)])));
      if (companions.length === 0) token = this.fetchToken(endpoint, challenge, scopes, access, op);
      else {
        // This request's own scope first: a server that grants only part of a batch tends to keep the first ones.
        const batch = this.fetchToken(endpoint, challenge, [...scopes, ...companions.map((r) => repositoryScope(r, op.access))], access, op);
        for (const repository of companions) {
          const companionKey = keyOf([repositoryScope(repository, op.access)]);
          this.tokens.set(companionKey, batch);
          batch.catch(() => this.tokens.get(companionKey) === batch && this.tokens.delete(companionKey));
        }
        // A token server that refuses several scopes at once still answers for one.
        token = batch.catch(() => this.fetchToken(endpoint, challenge, scopes, access, op));
      }
      this.tokens.set(key, token);
      const settled = token;
      settled.catch(() => this.tokens.get(key) === settled && this.tokens.delete(key));
    }
    return { header: `Bearer ${(await token).value}`, tokenKey: key };
  }

  /** Up to TOKEN_BATCH - 1 announced repositories to ask a token for along with `op`'s: same credentials, no token yet. */
  private batchCompanions(op: Exchange, access: RegistryAccess | undefined, hasToken: (repository: string) => boolean): string[] {
    const queue = this.upcoming.get(`${op.registry}\n${op.access}`);
    if (!queue || queue.length === 0) return [];
    const companions: string[] = [];
    const keep: string[] = [];
    while (queue.length > 0 && companions.length < TOKEN_BATCH - 1) {
      const repository = queue.shift()!;
      if (repository === op.repository || hasToken(repository)) continue;
      // Credentials are matched by registry/namespace prefix: only repositories with the same ones share a token.
      // A repository whose lookup has not finished stays in the queue for a later batch (or its own request).
      const key = `${op.registry}/${repository}`;
      if (this.accessSources.has(key) && this.accessSources.get(key) === access?.source) companions.push(repository);
      else keep.push(repository);
    }
    queue.unshift(...keep);
    return companions;
  }

  /**
   * Token request (distribution docs/spec/auth/token.md; OAuth2 refresh-token flow for identity tokens,
   * docs/spec/auth/oauth.md). Credentials go to the realm only over HTTPS, or plain HTTP when the registry itself
   * is configured insecure: a challenge cannot redirect them to an arbitrary cleartext host.
   */
  private async fetchToken(endpoint: Endpoint, challenge: Challenge, scopes: string[], access: RegistryAccess | undefined, op: Exchange): Promise<Token> {
    const where = { registry: op.registry, repository: op.repository };
    if (!challenge.realm) throw new SwrSyncError('ERR_TOKEN', `registry ${op.registry} sent a Bearer challenge without a realm`, where);
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch (cause) {
      throw new SwrSyncError('ERR_TOKEN', `registry ${op.registry} sent an invalid token realm`, { ...where, cause });
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new SwrSyncError('ERR_TOKEN', `registry ${op.registry}: token realm scheme ${realm.protocol} is not http(s)`, where);
    const credential = access?.credential;
    const mayUseCredential = realm.protocol === 'https:' || endpoint.insecure;
    const identityToken = credential?.username === '<token>';
    let method: 'GET' | 'POST' = 'GET';
    let body: Buffer | undefined;
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'swr-sync' };
    const url = new URL(realm);
    if (credential && mayUseCredential && identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.password, client_id: 'swr-sync' });
      if (challenge.service) form.set('service', challenge.service);
      form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (challenge.service) url.searchParams.set('service', challenge.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credential && mayUseCredential) {
        headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      }
    }
    for (let attempt = 0; ; attempt++) {
      // The token server is limited under its own host.
      await this.limiter.beforeRequest(url.host, false, this.options.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          dispatcher: endpoint.insecure ? this.transport.unverified : this.transport.verified,
          method, headers, body, signal: this.options.signal,
        });
      } catch (error) {
        this.count(op.registry, method, url, undefined);
        if (attempt < this.retry.retries && isRetryableNetworkError(error)) {
          this.retry.onRetry?.();
          await sleep(backoffDelay(this.retry, attempt), this.options.signal);
          continue;
        }
        throw new SwrSyncError('ERR_TOKEN', `token server ${realm.origin} for registry ${op.registry} unreachable: ${networkCause(error)}`, { ...where, cause: error, retryable: true });
      }
      this.count(op.registry, method, url, res.statusCode);
      if (res.statusCode === 200) {
        const text = (await readLimited(res.body, 1024 * 1024, () => new SwrSyncError('ERR_TOKEN', `token response from ${realm.origin} is too large`, where))).toString('utf8');
        let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
        try {
          parsed = JSON.parse(text);
        } catch (cause) {
          throw new SwrSyncError('ERR_TOKEN', `token server ${realm.origin} for registry ${op.registry} answered with invalid JSON`, { ...where, cause });
        }
        const value = parsed.token ?? parsed.access_token;
        if (!value) throw new SwrSyncError('ERR_TOKEN', `token server ${realm.origin} for registry ${op.registry} returned no token`, where);
        // token.md: expires_in defaults to 60 s; renew 10% early so a long upload does not start with a dying token.
        const lifetime = Math.max(typeof parsed.expires_in === 'number' ? parsed.expires_in : TOKEN_MIN_LIFETIME_S, 1);
        const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
        const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
        return { value, expiresAt: start + lifetime * 900 };
      }
      await res.body.dump();
      if (attempt < this.retry.retries && isRetryableStatus(res.statusCode)) {
        this.retry.onRetry?.();
        await sleep(backoffDelay(this.retry, attempt, parseRetryAfter(header(res.headers, 'retry-after'))), this.options.signal);
        continue;
      }
      const found = credential
        ? mayUseCredential ? `credentials for ${op.registry} were found (${access!.source})` : `credentials for ${op.registry} were withheld: the realm is plain HTTP and the registry is not marked insecure`
        : `no credentials are configured for ${op.registry}`;
      throw new SwrSyncError(res.statusCode === 401 || res.statusCode === 403 ? 'ERR_UNAUTHORIZED' : 'ERR_TOKEN',
        `token server ${realm.origin} refused a token for ${scopes.join(' ')} on registry ${op.registry} (${res.statusCode}); ${found}`,
        { ...where, status: res.statusCode, retryable: isRetryableStatus(res.statusCode) });
    }
  }
}

/** The `Link: <…>; rel="next"` page after this one (distribution-spec pagination of tag and referrers lists), absolute. */
function nextPage(res: Response): string | undefined {
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '')?.[1];
  return next === undefined ? undefined : new URL(next, res.url).toString();
}

/** A HEAD answer in undici's shape: the same handling (status, headers, an empty body to dump) for every method. */
function headResponse(res: { statusCode: number; headers: Record<string, string | string[] | undefined> }): Dispatcher.ResponseData {
  const body = Object.assign(Readable.from([]), { dump: async () => undefined });
  return { statusCode: res.statusCode, headers: res.headers, body, trailers: {}, opaque: undefined, context: {} } as unknown as Dispatcher.ResponseData;
}

/** The token scope for one repository (distribution token-scope.md): pull, or pull and push. */
function repositoryScope(repository: string, access: Access): string {
  return `repository:${repository}:${access === 'push' ? 'pull,push' : 'pull'}`;
}

/** `registry/repository:tag` or `registry/repository@digest`, for messages. */
function display(registry: string, repository: string, ref: string): string {
  return `${registry}/${repository}${ref.includes(':') ? '@' : ':'}${ref}`;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function withQuery(location: string, key: string, value: string): string {
  const url = new URL(location);
  url.searchParams.append(key, value);
  return url.toString();
}

function describeTarget(op: Exchange, target: URL): string {
  return `${op.registry}${target.pathname}`.replace(/\/v2\//, ' /v2/');
}

/** The system or TLS cause of a network failure in one line: `ECONNREFUSED connect ...`, `CERT_HAS_EXPIRED (...)`. */
function networkCause(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const { code, reason, message } = e as { code?: unknown; reason?: unknown; message?: unknown };
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) {
      // OpenSSL messages carry library internals; its `reason` is the readable part.
      const text = typeof reason === 'string' ? reason : typeof message === 'string' ? message.split('\n')[0]! : '';
      return `${code} ${text}`.trim();
    }
    e = (e as { cause?: unknown }).cause;
  }
  return describeError(error);
}

async function readLimited(body: AsyncIterable<Uint8Array> & { destroy(): void }, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw tooLarge();
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** The distribution-spec error body (`{"errors":[{"code","message"}]}`) in one line, for messages. */
async function errorDetail(res: Response): Promise<string> {
  let text = '';
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      if (total < ERROR_BODY_LIMIT) parts.push(Buffer.from(chunk as Uint8Array));
      total += (chunk as Uint8Array).length;
    }
    text = Buffer.concat(parts).toString('utf8').slice(0, ERROR_BODY_LIMIT);
  } catch {
    return '';
  }
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors;
    if (Array.isArray(errors) && errors.length > 0) return errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: fall through to the first line of text
  }
  return text.split('\n')[0]!.trim().slice(0, 200);
}

/** Splits a stream into Buffers of `size` bytes (the last may be shorter); memory stays at one chunk. */
async function* chunks(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const data of stream) {
    let chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    while (length + chunk.length >= size) {
      const take = size - length;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      chunk = chunk.subarray(take);
      parts = [];
      length = 0;
    }
    if (chunk.length > 0) {
      parts.push(Buffer.from(chunk));
      length += chunk.length;
    }
  }
  if (length > 0) yield Buffer.concat(parts);
}
