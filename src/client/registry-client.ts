import type { Readable } from 'node:stream';
import type { CredentialSource } from '../config/credentials.js';
import { SwrSyncError } from '../errors.js';
import { limitExceeded } from '../oci/budgets.js';
import { digestAlgorithm, digestOf, isDigest, serverDigest } from '../oci/digest.js';
import { MANIFEST_ACCEPT, MANIFEST_MAX_BYTES, type Descriptor } from '../oci/manifest.js';
import { discard, display, header, readLimited, type Access, type RequestEvent } from './exchange.js';
import { RegistryLimiter } from './rate-limit.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { RegistrySession } from './session.js';
import { Transport } from './transport.js';
import { BlobUploader, type UploadMode } from './upload.js';
import { listReferrers, listTags } from './listing.js';
import { DEFAULT_CHUNK_SIZE } from '../defaults.js';

export type { Access, RequestEvent } from './exchange.js';

/** Replaces every secret `redact` knows in the messages of `error` and its causes. */
function redactError(error: unknown, redact: (text: string) => string): unknown {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const text = redact(e.message);
    if (text !== e.message) e.message = text;
    e = (e as { cause?: unknown }).cause;
  }
  return error;
}
export { Transport, type TransportOptions } from './transport.js';
export type { UploadMode } from './upload.js';

/** A manifest's digest, media type and size as a HEAD reports them (each may be missing). */
export interface ManifestHead {
  readonly digest: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

/** A manifest read byte for byte, its digest verified. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string | undefined;
  readonly digest: string;
}

/** An opened blob: `body` holds `size` bytes (when known) starting at byte `offset` of the blob. */
export interface BlobBody {
  readonly body: Readable;
  readonly size: number | undefined;
  /** @default 0 */
  readonly offset?: number;
}

/** How a `RegistryClient` behaves; every field is optional. */
export interface RegistryClientOptions {
  /** Where credentials come from, matched by exact host. @default anonymous */
  readonly credentials?: CredentialSource;
  /** Registries that may be plain HTTP or have unverified TLS, besides those marked `insecure` in the credentials. */
  readonly insecure?: (registry: string) => boolean;
  readonly retry?: Partial<RetryPolicy>;
  /** Share connection pools between clients (e.g. the source and destination client of one run). */
  readonly transport?: Transport;
  /**
   * `auto`: one monolithic PUT per blob (a resumable PATCH from `resumableFrom` bytes on), chunked PATCHes when a
   * registry refuses that. @default 'auto'
   */
  readonly uploadMode?: UploadMode;
  /** Blobs from this size on are uploaded resumably (resumed from the registry's offset after a failure). @default 32 MiB */
  readonly resumableFrom?: number;
  /** PATCH size in chunked uploads (raised to the registry's `OCI-Chunk-Min-Length`). @default 16 MiB */
  readonly chunkSize?: number;
  readonly userAgent?: string;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly signal?: AbortSignal;
  /** Per-host rates, bandwidth and quota pacing; share one between the clients of a run. @default unlimited, with pacing */
  readonly limiter?: RegistryLimiter;
}

/**
 * Manifest HEADs sent ahead and held until taken, at most: enough to fill an HTTP/2 connection's streams or the
 * HTTP/1.1 connections while the tag lists are read; each pending request costs memory (planning 10,000 tags with
 * 4,096 held peaked 50 MiB higher), and past the first round the checks keep the pipe full themselves.
 */
const PREFETCH_MAX = 256;

/** What a prefetched HEAD is held under: the same arguments find it. */
const prefetchKey = (registry: string, repository: string, ref: string, access: Access): string =>
  `${access} ${registry}/${repository} ${ref}`;

/**
 * The one class at the network edge: a client for the OCI Distribution Spec v1.1 / Docker Registry HTTP API V2
 * over undici. It owns authentication (anonymous, Basic, Bearer tokens from the `WWW-Authenticate` challenge),
 * retries, redirects, the plain-HTTP fallback of `insecure` registries and the upload protocol. Everything above it
 * (engine, planner) speaks in repositories, references, digests and streams. The parts live beside it: `session.ts`
 * (one exchange: endpoint, auth, retries, redirects), `auth.ts` and `token-request.ts` (credentials and tokens),
 * `upload.ts` (pushing blobs), `exchange.ts` (reading answers safely), `transport.ts` (connection pools).
 */
export class RegistryClient {
  readonly retry: RetryPolicy;
  readonly uploadMode: UploadMode;
  readonly chunkSize: number;
  /** Per-host rates, bandwidth and quota pacing, shared by the clients of a run. */
  readonly limiter: RegistryLimiter;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly session: RegistrySession;
  private readonly uploader: BlobUploader;
  private retried = 0;
  /** Manifest HEADs sent ahead (`prefetchManifestHead`), by access, repository and ref, until taken. */
  private readonly prefetched = new Map<string, Promise<ManifestHead | undefined>>();

  constructor(options: RegistryClientOptions = {}) {
    this.retry = {
      ...DEFAULT_RETRY_POLICY,
      ...options.retry,
      onRetry: () => {
        this.retried++;
        options.retry?.onRetry?.();
      },
    };
    this.uploadMode = options.uploadMode ?? 'auto';
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.ownsTransport = options.transport === undefined;
    this.transport = options.transport ?? new Transport();
    this.limiter = options.limiter ?? new RegistryLimiter();
    this.session = new RegistrySession(options, this.transport, this.limiter, this.retry);
    this.uploader = new BlobUploader(
      this.session,
      this.uploadMode,
      this.chunkSize,
      options.resumableFrom,
      this.retry.retries,
      options.signal,
    );
  }

  /**
   * The client's edge: every error leaving it has the secrets in use (passwords, Basic credentials, tokens)
   * replaced, whatever a registry echoed into its error bodies or headers (docs/security.md).
   */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw redactError(error, (text) => this.session.auth.redact(text));
    }
  }

  /** Requests sent per registry host (token requests count under the registry they serve). */
  get requestCounts(): Map<string, number> {
    return this.session.requestCounts;
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
   * cost about N / 8 token requests instead of N — round trips that count on a WAN. A token server that grants only
   * part of a batch, or refuses it, costs a single-scope request for the repositories left out.
   */
  announceRepositories(registry: string, repositories: Iterable<string>, access: Access): void {
    this.session.auth.announce(registry, repositories, access);
  }

  // ---- manifests (distribution-spec "Pulling manifests", "Pushing Manifests") ----

  /** HEAD a manifest: its digest without a GET (a Docker Hub pull is counted only on GET). Undefined on 404. */
  headManifest(
    registry: string,
    repository: string,
    ref: string,
    access: Access = 'pull',
  ): Promise<ManifestHead | undefined> {
    const key = prefetchKey(registry, repository, ref, access);
    const ahead = this.prefetched.get(key);
    if (ahead) {
      this.prefetched.delete(key);
      // Sent the same way (retries included): its answer, or its failure, is this call's.
      return ahead;
    }
    return this.guard(() => this.headManifestOnce(registry, repository, ref, access));
  }

  /**
   * Sends now a manifest HEAD the run will ask for later: the next `headManifest` with the same arguments takes its
   * answer (once). Used to overlap a run's phases — an image's first check request leaves as soon as its tag list
   * arrives, instead of after the slowest list (docs/performance.md, cross-region). At most `PREFETCH_MAX` are held.
   */
  prefetchManifestHead(registry: string, repository: string, ref: string, access: Access = 'pull'): void {
    const key = prefetchKey(registry, repository, ref, access);
    if (this.prefetched.has(key) || this.prefetched.size >= PREFETCH_MAX) return;
    const head = this.guard(() => this.headManifestOnce(registry, repository, ref, access));
    // Never an unhandled rejection: whoever takes it handles the failure (by asking again).
    head.catch(() => undefined);
    this.prefetched.set(key, head);
  }

  private async headManifestOnce(
    registry: string,
    repository: string,
    ref: string,
    access: Access,
  ): Promise<ManifestHead | undefined> {
    const res = await this.session.exchange({
      registry,
      repository,
      access,
      method: 'HEAD',
      target: `/v2/${repository}/manifests/${ref}`,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200, 404],
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const length = header(res.headers, 'content-length');
    const sent = header(res.headers, 'docker-content-digest');
    return {
      // A skip decision, a plan and the `digest` output are made of this header: it must be a digest.
      digest:
        sent === undefined
          ? undefined
          : serverDigest(sent, `Docker-Content-Digest of ${display(registry, repository, ref)}`, {
              registry,
              repository,
            }),
      mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(),
      size: length === undefined ? undefined : Number(length),
    };
  }

  /**
   * GET a manifest as bytes, refusing more than 4 MiB, and check its digest: against the reference when pulled
   * by digest, and against `Docker-Content-Digest` when the registry sends it.
   */
  getManifest(registry: string, repository: string, ref: string, access: Access = 'pull'): Promise<FetchedManifest> {
    return this.guard(() => this.getManifestOnce(registry, repository, ref, access));
  }

  private async getManifestOnce(
    registry: string,
    repository: string,
    ref: string,
    access: Access,
  ): Promise<FetchedManifest> {
    const res = await this.session.exchange({
      registry,
      repository,
      access,
      method: 'GET',
      target: `/v2/${repository}/manifests/${ref}`,
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200],
    });
    const where = { registry, repository };
    const declared = Number(header(res.headers, 'content-length') ?? '0');
    if (declared > MANIFEST_MAX_BYTES) {
      discard(res.body);
      throw new SwrSyncError(
        'ERR_MANIFEST_TOO_LARGE',
        `manifest ${display(registry, repository, ref)} is ${declared} bytes; at most ${MANIFEST_MAX_BYTES} are accepted`,
        where,
      );
    }
    const bytes = await readLimited(
      res.body,
      MANIFEST_MAX_BYTES,
      () =>
        new SwrSyncError(
          'ERR_MANIFEST_TOO_LARGE',
          `manifest ${display(registry, repository, ref)} exceeds ${MANIFEST_MAX_BYTES} bytes`,
          where,
        ),
      () => limitExceeded('documentMs', `manifest ${display(registry, repository, ref)}`, where),
    );
    const header_ = header(res.headers, 'docker-content-digest');
    const sent =
      header_ === undefined
        ? undefined
        : serverDigest(header_, `Docker-Content-Digest of ${display(registry, repository, ref)}`, where);
    // Pulled by digest: the content must have that digest (a tag never looks like one: tags have no ':').
    const pinned = isDigest(ref) ? ref : undefined;
    const algorithm = pinned ? digestAlgorithm(pinned) : sent?.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = digestOf(bytes, algorithm);
    for (const [what, expected] of [
      ['requested digest', pinned],
      ['Docker-Content-Digest', sent],
    ] as const) {
      if (expected !== undefined && digestAlgorithm(expected) === algorithm && expected !== digest) {
        throw new SwrSyncError(
          'ERR_DIGEST_MISMATCH',
          `manifest ${display(registry, repository, ref)}: expected ${what} ${expected}, found content with digest ${digest}`,
          { ...where, retryable: true },
        );
      }
    }
    return { bytes, mediaType: header(res.headers, 'content-type')?.split(';')[0]?.trim(), digest };
  }

  /** PUT a manifest verbatim; returns the digest the registry stored, checked against the bytes sent. */
  putManifest(registry: string, repository: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    return this.guard(() => this.putManifestOnce(registry, repository, ref, bytes, mediaType));
  }

  private async putManifestOnce(
    registry: string,
    repository: string,
    ref: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const res = await this.session.exchange({
      registry,
      repository,
      access: 'push',
      method: 'PUT',
      target: `/v2/${repository}/manifests/${ref}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      expect: [200, 201, 202],
    });
    await res.body.dump();
    const expected = digestOf(bytes, ref.startsWith('sha512:') ? 'sha512' : 'sha256');
    const storedHeader = header(res.headers, 'docker-content-digest');
    const stored =
      storedHeader === undefined
        ? undefined
        : serverDigest(
            storedHeader,
            `Docker-Content-Digest of the manifest PUT to ${display(registry, repository, ref)}`,
            { registry, repository },
          );
    if (stored !== undefined && digestAlgorithm(stored) === digestAlgorithm(expected) && stored !== expected) {
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `${display(registry, repository, ref)}: the registry stored the manifest as ${stored}, expected ${expected} (it rewrote the bytes)`,
        { registry, repository },
      );
    }
    return stored ?? expected;
  }

  /**
   * Tags of a repository, following `Link` pagination (distribution-spec "Listing Tags"), within the budgets
   * (see `listTags` in ./listing.ts).
   */
  listTags(registry: string, repository: string, access: Access = 'pull'): Promise<string[]> {
    return this.guard(() => listTags(this.session, registry, repository, access));
  }

  /**
   * Referrers of a manifest (distribution-spec v1.1 "Listing Referrers"); undefined when the registry has no
   * referrers API (see `listReferrers` in ./listing.ts).
   */
  listReferrers(
    registry: string,
    repository: string,
    digest: string,
    access: Access = 'pull',
  ): Promise<Descriptor[] | undefined> {
    return this.guard(() => listReferrers(this.session, registry, repository, digest, access));
  }

  // ---- blobs (distribution-spec "Pulling blobs", "Pushing blobs") ----

  hasBlob(registry: string, repository: string, digest: string, access: Access = 'pull'): Promise<boolean> {
    return this.guard(async () => {
      const res = await this.session.exchange({
        registry,
        repository,
        access,
        method: 'HEAD',
        target: `/v2/${repository}/blobs/${digest}`,
        expect: [200, 404],
      });
      await res.body.dump();
      return res.status === 200;
    });
  }

  /**
   * Opens a blob for streaming, following redirects (credentials are not sent to another origin). With `offset`, asks
   * for the bytes from there on (`Range: bytes=N-`, RFC 9110 §14.2); a server that ignores the range answers 200 with
   * the whole blob, and the answer's `offset` is then 0.
   */
  getBlob(registry: string, repository: string, digest: string, offset = 0): Promise<BlobBody> {
    return this.guard(() => this.getBlobOnce(registry, repository, digest, offset));
  }

  private async getBlobOnce(registry: string, repository: string, digest: string, offset: number): Promise<BlobBody> {
    const res = await this.session.exchange({
      registry,
      repository,
      access: 'pull',
      method: 'GET',
      target: `/v2/${repository}/blobs/${digest}`,
      ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
      expect: offset > 0 ? [200, 206] : [200],
      followRedirects: true,
    });
    const length = header(res.headers, 'content-length');
    let starts = 0;
    if (res.status === 206) {
      // RFC 9110 §14.4: `bytes first-last/complete`; anything else is not the part asked for.
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range')?.trim() ?? '');
      if (!range || Number(range[1]) !== offset) {
        discard(res.body);
        throw new SwrSyncError(
          'ERR_REGISTRY_RESPONSE',
          `blob ${digest} from ${registry}/${repository}: asked for bytes from ${offset}, got Content-Range ${JSON.stringify((header(res.headers, 'content-range') ?? '').slice(0, 80))}`,
          { registry, repository, status: 206, retryable: true },
        );
      }
      starts = offset;
    }
    return {
      body: this.limiter.pace(registry, res.body),
      size: length === undefined ? undefined : Number(length),
      offset: starts,
    };
  }

  /**
   * Cross-repository mount (distribution-spec "Mounting a blob from another repository"): 201 means the blob is
   * now in `repository`; 202 means the registry opened an ordinary upload session instead, whose location is
   * returned so the caller can upload into it without another POST.
   */
  mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    return this.guard(() => this.uploader.mountBlob(registry, repository, digest, from));
  }

  /**
   * Uploads a blob whose digest and size are known: POST then one streaming monolithic PUT with Content-Length
   * (2 requests), falling back to chunked PATCH uploads when the registry refuses a monolithic PUT.
   * `open` is called once per attempt and must return the blob's bytes from the start.
   */
  uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: (offset?: number) => Promise<Readable>,
    location?: string,
  ): Promise<void> {
    return this.guard(() => this.uploader.uploadBlob(registry, repository, digest, size, open, location));
  }
}
