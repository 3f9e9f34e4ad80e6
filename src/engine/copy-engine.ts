import { pipeline } from 'node:stream';
import type { ImageStore } from '../store/image-store.js';
import { withRetries } from '../client/retry.js';
import { abortOf, describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import { digestOf } from '../oci/digest.js';
import {
  isNonDistributable,
  parseManifest,
  type Descriptor,
  type ImageManifest,
  type Manifest,
} from '../oci/manifest.js';
import {
  formatPlatform,
  isAttestation,
  platformMatches,
  platformOfImageConfig,
  type Platform,
} from '../oci/platform.js';
import { filterIndex } from '../oci/platform-filter.js';
import { refNameProblem, sourceIndexOf, tagProblem, type Reference } from '../oci/reference.js';
import type { BlobCounts, ImageResult } from './image-result.js';
import { BlobCopier, type BlobOutcome, type RepositoryLocation } from './blob-copier.js';
import { ByteBudget } from '../util/byte-budget.js';
import { Limiter } from '../util/limiter.js';
import { VerifyStream } from './verify-stream.js';

/** The two sides of a run and how it copies. */
export interface CopyEngineOptions {
  readonly source: ImageStore;
  readonly destination: ImageStore;
  /** Blob transfers at once, across all images of the run. @default 8 */
  readonly blobConcurrency?: number;
  readonly onBytes?: (bytes: number) => void;
  /** Cancels the run: no blob transfer starts and no manifest or tag is written once it is aborted. */
  readonly signal?: AbortSignal;
}

/** Options of one `CopyEngine.copy()`. */
export interface CopyOptions {
  /** Copy only these platforms of an index, writing a new index of them (its digest differs from the source's). */
  readonly platforms?: readonly Platform[];
  /**
   * What the lock file recorded for this destination after the last sync. When it says the destination holds the
   * source digest as is (no platform filter), one source HEAD decides whether anything changed and the destination
   * is not asked (issue 7: at most one request per unchanged tag). Leave it out to check the destination too.
   */
  readonly locked?: { readonly sourceDigest: string; readonly digest: string };
  /** What `check()` found for this image: copy() then does not ask the registries again. */
  readonly checked?: Checked;
}

/** `check()` found that the image must be copied; the source digest when a HEAD already told it. */
export interface Checked {
  readonly checked: true;
  readonly sourceDigest?: string;
}

export function isChecked(value: ImageResult | Checked): value is Checked {
  return (value as Checked).checked === true;
}

type TopOutcome = {
  sourceDigest: string;
  digest: string;
  mediaType: string;
  platforms: string[];
  unchanged: boolean;
  note?: string;
};

const IMAGE_CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
/**
 * Configs up to this size are read into memory (for the platform they name) and uploaded from there; larger ones
 * (rare: a long build history) are streamed like layers, so a registry serving huge configs costs no memory.
 */
const CONFIG_PEEK_LIMIT = 1024 * 1024;

/** Per-image tally, folded into the ImageResult. */
class Tally {
  bytesTransferred = 0;
  bytesSkipped = 0;
  readonly blobs: BlobCounts = { copied: 0, mounted: 0, present: 0 };
  add(outcome: BlobOutcome, size: number): void {
    this.blobs[outcome]++;
    if (outcome === 'copied') this.bytesTransferred += size;
    else this.bytesSkipped += size;
  }
}

/**
 * The manifests of one image being walked: how many were visited (bounded by `manifestsPerImage`), and the first
 * failure, after which children not yet started are skipped (the image has failed; its tag is never written).
 */
class ImageWalk {
  manifests = 0;
  failure: { error: unknown } | undefined;
  constructor(
    readonly name: string,
    readonly where: RepositoryLocation,
  ) {}

  visit(): void {
    if (++this.manifests > BUDGETS.manifestsPerImage)
      throw limitExceeded('manifestsPerImage', `image ${this.name}`, this.where);
  }
}

/**
 * Copies one image reference with everything under it: index → child manifests → config and layers, children
 * before parents, the tag written last. A failure at any point leaves the destination tag where it was, never on an
 * incomplete image (distribution-spec: a manifest PUT is refused while a referenced blob or manifest is missing,
 * and we PUT bottom-up). Manifest bytes are copied verbatim, so digests are preserved.
 */
export class CopyEngine {
  private readonly options: CopyEngineOptions;
  private readonly blobs: BlobCopier;
  /** Manifests already written this run, per destination repository: a second image sharing one skips it. */
  private readonly manifestsWritten = new Map<string, Promise<void>>();
  /** Image configs being read, by source registry and digest: images that share one wait for the same read. */
  private readonly configReads = new Map<string, Promise<Buffer>>();
  /** Image configs read this run, least recently used first, at most `configCacheBytes` together. */
  private readonly configCache = new Map<string, Buffer>();
  private configCacheBytes = 0;
  /** Bytes of child manifests held at once, all images together. */
  private readonly manifestMemory = new ByteBudget(BUDGETS.manifestMemoryBytes);

  constructor(options: CopyEngineOptions) {
    this.options = options;
    this.blobs = new BlobCopier({
      source: options.source,
      destination: options.destination,
      ...(options.blobConcurrency !== undefined ? { concurrency: options.blobConcurrency } : {}),
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Copies `src` to `dst` and reports the outcome; never throws for registry failures (status `failed`). */
  async copy(src: Reference, dst: Reference, options: CopyOptions = {}): Promise<ImageResult> {
    const target = destinationOf(src, dst);
    return this.report(src, target, (tally, onSourceDigest) =>
      this.copyTop(src, target, options, tally, onSourceDigest),
    );
  }

  /**
   * The platforms of the image the destination holds at `digest`: one manifest GET there, plus its config for a
   * single image (never a request to the source, so no Docker Hub pull). For the lock entry of an image that was
   * already in place, so an entry says the same whoever copied the image.
   */
  async platformsAt(dst: Reference, digest: string): Promise<string[]> {
    const { destination } = this.options;
    const at: RepositoryLocation = { registry: dst.registry, repository: dst.repository };
    const fetched = await destination.getManifest(dst.registry, dst.repository, digest, 'push');
    const manifest = parseManifest(fetched.bytes, fetched.mediaType, at);
    if (manifest.kind === 'index') {
      return manifest.manifests
        .filter((c) => !isAttestation(c.annotations, c.platform) && c.platform)
        .map((c) => formatPlatform(c.platform!));
    }
    if (!IMAGE_CONFIG_TYPES.has(manifest.config.mediaType) || manifest.config.size > CONFIG_PEEK_LIMIT) return [];
    return platformOfConfig(await readBlob(destination, at, manifest.config));
  }

  /**
   * The skip-unchanged decision of copy() alone, HEAD requests only: the unchanged (or failed) result, or what
   * copy() needs to go on. A runner checks many images at once this way while only `--workers` of them copy.
   */
  async check(src: Reference, dst: Reference, options: CopyOptions = {}): Promise<ImageResult | Checked> {
    const target = destinationOf(src, dst);
    return this.report(src, target, async (_tally, onSourceDigest) => {
      const decision = await this.decide(src, target, options, onSourceDigest);
      return 'unchanged' in decision ? decision.unchanged : decision;
    });
  }

  private report(
    src: Reference,
    dst: Reference,
    body: (tally: Tally, onSourceDigest: (digest: string) => void) => Promise<TopOutcome>,
  ): Promise<ImageResult>;
  private report(
    src: Reference,
    dst: Reference,
    body: (tally: Tally, onSourceDigest: (digest: string) => void) => Promise<TopOutcome | Checked>,
  ): Promise<ImageResult | Checked>;
  private async report(
    src: Reference,
    dst: Reference,
    body: (tally: Tally, onSourceDigest: (digest: string) => void) => Promise<TopOutcome | Checked>,
  ): Promise<ImageResult | Checked> {
    const started = Date.now();
    const tally = new Tally();
    const base = { source: src.toString(), destination: dst.toString() };
    let sourceDigest: string | undefined;
    try {
      const outcome = await body(tally, (d) => (sourceDigest = d));
      if ('checked' in outcome) return outcome;
      return {
        ...base,
        sourceDigest: outcome.sourceDigest,
        digest: outcome.digest,
        mediaType: outcome.mediaType,
        platforms: outcome.platforms,
        bytesTransferred: tally.bytesTransferred,
        bytesSkipped: tally.bytesSkipped,
        blobs: tally.blobs,
        status: outcome.unchanged ? 'unchanged' : 'copied',
        ...(outcome.note ? { note: outcome.note } : {}),
        durationMs: Date.now() - started,
      };
    } catch (error) {
      if (isSwrSyncError(error) && error.code === 'ERR_PLATFORM_NOT_FOUND') {
        // Left out by the platform filter, as image-syncer skips "no manifest fits platform filters": nothing written.
        return {
          ...base,
          ...(sourceDigest ? { sourceDigest } : {}),
          platforms: [],
          bytesTransferred: tally.bytesTransferred,
          bytesSkipped: tally.bytesSkipped,
          blobs: tally.blobs,
          status: 'skipped',
          // The result names the source already.
          note: error.message.replace(`${src}: `, ''),
          durationMs: Date.now() - started,
        };
      }
      return {
        ...base,
        ...(sourceDigest ? { sourceDigest } : {}),
        platforms: [],
        bytesTransferred: tally.bytesTransferred,
        bytesSkipped: tally.bytesSkipped,
        blobs: tally.blobs,
        status: 'failed',
        error: errorOfCopy(error),
        durationMs: Date.now() - started,
      };
    }
  }

  /**
   * Skip-unchanged: the destination first. When it has nothing there the image is copied anyway, so the source
   * is not asked twice; when it has something, a HEAD of the source (not a Docker Hub pull) decides. With a lock
   * entry that vouches for the destination, one source HEAD decides alone.
   */
  private async decide(
    src: Reference,
    dst: Reference,
    options: CopyOptions,
    onSourceDigest: (digest: string) => void,
  ): Promise<{ unchanged: TopOutcome } | Checked> {
    const { source, destination } = this.options;
    const filtering = options.platforms !== undefined && options.platforms.length > 0;
    const dstTag = dst.tag ?? (dst.digest ? undefined : src.tag);
    let sourceDigest = src.digest;
    const locked = options.locked;
    if (!filtering && locked && locked.digest === locked.sourceDigest) {
      if (sourceDigest === undefined) {
        const head = await source.headManifest(src.registry, src.repository, src.ref);
        if (!head) throw notFound(src);
        sourceDigest = head.digest;
      }
      if (sourceDigest !== undefined) onSourceDigest(sourceDigest);
      if (sourceDigest === locked.sourceDigest) {
        return { unchanged: { sourceDigest, digest: sourceDigest, mediaType: '', platforms: [], unchanged: true } };
      }
    }
    const dstRef = dstTag ?? dst.digest ?? src.digest;
    if (!filtering && dstRef !== undefined) {
      const existing = await destination.headManifest(dst.registry, dst.repository, dstRef, 'push');
      if (existing?.digest) {
        if (sourceDigest === undefined) {
          const head = await source.headManifest(src.registry, src.repository, src.ref);
          if (!head) throw notFound(src);
          sourceDigest = head.digest;
        }
        if (sourceDigest !== undefined) onSourceDigest(sourceDigest);
        if (existing.digest === sourceDigest) {
          return {
            unchanged: {
              sourceDigest,
              digest: sourceDigest,
              mediaType: existing.mediaType ?? '',
              platforms: [],
              unchanged: true,
            },
          };
        }
      }
    }
    return { checked: true, ...(sourceDigest !== undefined ? { sourceDigest } : {}) };
  }

  private async copyTop(
    src: Reference,
    dst: Reference,
    options: CopyOptions,
    tally: Tally,
    onSourceDigest: (digest: string) => void,
  ): Promise<TopOutcome> {
    const { source, destination } = this.options;
    const from: RepositoryLocation = { registry: src.registry, repository: src.repository };
    const to: RepositoryLocation = { registry: dst.registry, repository: dst.repository };
    const filtering = options.platforms !== undefined && options.platforms.length > 0;
    // The tag the destination gets: its own, else the source's; a digest-only copy is stored by digest.
    const dstTag = dst.tag ?? (dst.digest ? undefined : src.tag);

    const decision = options.checked ?? (await this.decide(src, dst, options, onSourceDigest));
    if ('unchanged' in decision) return decision.unchanged;
    const sourceDigest = decision.sourceDigest;
    if (sourceDigest !== undefined) onSourceDigest(sourceDigest);

    // By digest when it is known, so the bytes are exactly the ones compared above even if the tag moves meanwhile.
    const fetched = await source
      .getManifest(src.registry, src.repository, sourceDigest ?? src.ref)
      .catch((error: unknown) => {
        throw isSwrSyncError(error) && error.code === 'ERR_NOT_FOUND' ? notFound(src) : error;
      });
    onSourceDigest(fetched.digest);
    if (src.digest && fetched.digest !== src.digest) {
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `source ${src}: expected digest ${src.digest}, found ${fetched.digest}`,
        from,
      );
    }
    if (dst.digest && !filtering && dst.digest !== fetched.digest) {
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `destination ${dst} pins digest ${dst.digest}, but the source is ${fetched.digest}`,
        to,
      );
    }
    const manifest = parseManifest(fetched.bytes, fetched.mediaType, from);
    let bytes = fetched.bytes;
    let note: string | undefined;
    let platforms: string[];

    if (manifest.kind === 'index') {
      const selected = filterIndex(fetched.bytes, manifest.manifests, options.platforms, src);
      const children = selected.children;
      if (selected.filtered) {
        bytes = selected.bytes;
        note = `platform filter kept ${children.length} of ${manifest.manifests.length} index entries; the destination index ${digestOf(bytes)} differs from the source index ${fetched.digest}`;
      }
      platforms = children
        .filter((c) => !isAttestation(c.annotations, c.platform) && c.platform)
        .map((c) => formatPlatform(c.platform!));
      const newDigest = digestOf(bytes);
      if (filtering && dstTag) {
        const existing = await destination.headManifest(dst.registry, dst.repository, dstTag, 'push');
        if (existing?.digest === newDigest) {
          return {
            sourceDigest: fetched.digest,
            digest: newDigest,
            mediaType: manifest.mediaType,
            platforms,
            unchanged: true,
            ...(note ? { note } : {}),
          };
        }
      }
      if (manifest.manifests.length > BUDGETS.indexChildren)
        throw limitExceeded('indexChildren', `index ${src} (${manifest.manifests.length} entries)`, from);
      await this.copyChildren(from, to, children, tally, 1, new ImageWalk(src.toString(), from));
    } else {
      platforms = await this.copyImageBlobs(from, to, manifest, tally, filtering ? options.platforms : undefined, src);
    }

    const digest = digestOf(bytes);
    // An interrupted run writes no tag, even on an image whose blobs all arrived.
    this.options.signal?.throwIfAborted();
    const stored = await destination.putManifest(
      dst.registry,
      dst.repository,
      dstTag ?? digest,
      bytes,
      manifest.mediaType,
    );
    if (stored !== digest) {
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `${dst}: the registry reports digest ${stored}, expected ${digest}`,
        to,
      );
    }
    return {
      sourceDigest: fetched.digest,
      digest,
      mediaType: manifest.mediaType,
      platforms,
      unchanged: false,
      ...(note ? { note } : {}),
    };
  }

  /**
   * The children of an index, `indexConcurrency` at a time at every level of nesting; after the first failure the
   * children not yet started are skipped.
   */
  private async copyChildren(
    from: RepositoryLocation,
    to: RepositoryLocation,
    children: readonly Descriptor[],
    tally: Tally,
    depth: number,
    walk: ImageWalk,
  ): Promise<void> {
    const limiter = new Limiter(BUDGETS.indexConcurrency);
    await settleAll(
      children.map((child) =>
        limiter.run(async () => {
          if (walk.failure) throw walk.failure.error;
          try {
            await this.copyChild(from, to, child, tally, depth, walk);
          } catch (error) {
            walk.failure ??= { error };
            throw error;
          }
        }),
      ),
    );
  }

  /** Copies a child manifest (and, for nested indexes, its children) and writes it by digest. */
  private async copyChild(
    from: RepositoryLocation,
    to: RepositoryLocation,
    descriptor: Descriptor,
    tally: Tally,
    depth: number,
    walk: ImageWalk,
  ): Promise<void> {
    const key = `${to.registry}/${to.repository}@${descriptor.digest}`;
    let written = this.manifestsWritten.get(key);
    if (!written) {
      written = this.writeChild(from, to, descriptor, tally, depth, walk);
      this.manifestsWritten.set(key, written);
      written.catch(() => this.manifestsWritten.get(key) === written && this.manifestsWritten.delete(key));
    }
    await written;
  }

  /**
   * One child manifest. Its bytes count against `manifestMemoryBytes` while they are held: an image manifest's
   * until it is written, a nested index's only until its children are known (it is read again, checked against its
   * digest, to be written after them), so an index never holds memory while its children copy.
   */
  private async writeChild(
    from: RepositoryLocation,
    to: RepositoryLocation,
    descriptor: Descriptor,
    tally: Tally,
    depth: number,
    walk: ImageWalk,
  ): Promise<void> {
    const { destination } = this.options;
    if (depth > BUDGETS.indexDepth)
      throw limitExceeded(
        'indexDepth',
        `image ${walk.name}: indexes nested deeper than ${BUDGETS.indexDepth} levels`,
        from,
      );
    walk.visit();
    if (descriptor.size > BUDGETS.manifestBytes) {
      throw new SwrSyncError(
        'ERR_MANIFEST_TOO_LARGE',
        `image ${walk.name}: child manifest ${descriptor.digest} is ${descriptor.size} bytes; at most ${BUDGETS.manifestBytes} are accepted`,
        from,
      );
    }
    // A manifest the destination already has is complete (its blobs were checked when it was pushed).
    const existing = await destination.headManifest(to.registry, to.repository, descriptor.digest, 'push');
    if (existing) {
      tally.bytesSkipped += descriptor.size;
      return;
    }
    const index = await this.withManifest(from, descriptor, async (bytes, manifest) => {
      if (manifest.kind === 'index') {
        if (manifest.manifests.length > BUDGETS.indexChildren)
          throw limitExceeded(
            'indexChildren',
            `image ${walk.name}: index ${descriptor.digest} (${manifest.manifests.length} entries)`,
            from,
          );
        return manifest;
      }
      await this.copyImageBlobs(from, to, manifest, tally);
      this.options.signal?.throwIfAborted();
      await destination.putManifest(to.registry, to.repository, descriptor.digest, bytes, manifest.mediaType);
      return undefined;
    });
    if (!index) return;
    await this.copyChildren(from, to, index.manifests, tally, depth + 1, walk);
    this.options.signal?.throwIfAborted();
    await this.withManifest(from, descriptor, (bytes, manifest) =>
      destination.putManifest(to.registry, to.repository, descriptor.digest, bytes, manifest.mediaType),
    );
  }

  /** Reads a child manifest (checked against its descriptor) and runs `use` while its bytes count as held. */
  private async withManifest<T>(
    from: RepositoryLocation,
    descriptor: Descriptor,
    use: (bytes: Buffer, manifest: Manifest) => Promise<T>,
  ): Promise<T> {
    const release = await this.manifestMemory.acquire(descriptor.size);
    try {
      const fetched = await this.options.source.getManifest(from.registry, from.repository, descriptor.digest);
      if (fetched.bytes.length !== descriptor.size) {
        throw new SwrSyncError(
          'ERR_SIZE_MISMATCH',
          `manifest ${descriptor.digest} of ${from.registry}/${from.repository}: expected ${descriptor.size} bytes, found ${fetched.bytes.length}`,
          from,
        );
      }
      return await use(fetched.bytes, parseManifest(fetched.bytes, fetched.mediaType ?? descriptor.mediaType, from));
    } finally {
      release();
    }
  }

  /**
   * An image config, read once per run while it stays in the bounded cache (least recently used out first):
   * `configCacheBytes` whatever the number of distinct configs a registry serves.
   */
  private readConfig(source: ImageStore, from: RepositoryLocation, config: Descriptor): Promise<Buffer> {
    const key = `${from.registry}@${config.digest}`;
    const cached = this.configCache.get(key);
    if (cached) {
      this.configCache.delete(key);
      this.configCache.set(key, cached);
      return Promise.resolve(cached);
    }
    let read = this.configReads.get(key);
    if (!read) {
      read = readBlob(source, from, config);
      this.configReads.set(key, read);
      read
        .then(
          (bytes) => this.cacheConfig(key, bytes),
          () => undefined,
        )
        .finally(() => this.configReads.delete(key));
    }
    return read;
  }

  private cacheConfig(key: string, bytes: Buffer): void {
    if (bytes.length > CONFIG_PEEK_LIMIT || this.configCache.has(key)) return;
    this.configCache.set(key, bytes);
    this.configCacheBytes += bytes.length;
    for (const [oldest, held] of this.configCache) {
      if (this.configCacheBytes <= BUDGETS.configCacheBytes) break;
      this.configCache.delete(oldest);
      this.configCacheBytes -= held.length;
    }
  }

  /** Config and layers of one image manifest; returns the image's platform when its config says so. */
  private async copyImageBlobs(
    from: RepositoryLocation,
    to: RepositoryLocation,
    manifest: ImageManifest,
    tally: Tally,
    wanted?: readonly Platform[],
    src?: Reference,
  ): Promise<string[]> {
    const { source } = this.options;
    const config = manifest.config;
    let configBytes: Buffer | undefined;
    let platforms: string[] = [];
    // The image config is small and says which platform this is; read it once and upload it from memory.
    if (IMAGE_CONFIG_TYPES.has(config.mediaType) && config.size <= CONFIG_PEEK_LIMIT) {
      configBytes = await this.readConfig(source, from, config);
      platforms = platformOfConfig(configBytes);
      // A platform filter on a single-platform image (image-syncer's --os/--arch read the config too): another
      // platform is skipped before any blob moves; a config naming no platform (an artifact) is copied.
      const platform = platformOfImageConfig(configBytes);
      if (wanted && platform && !wanted.some((w) => platformMatches(w, platform))) {
        throw new SwrSyncError(
          'ERR_PLATFORM_NOT_FOUND',
          `${src ?? `${from.registry}/${from.repository}`}: a single-platform image for ${formatPlatform(platform)}, not one of the requested platforms (${wanted.map(formatPlatform).join(', ')}): skipped`,
          from,
        );
      }
    }
    const descriptors = [config, ...manifest.layers].filter((d) => !isNonDistributable(d));
    const unique = new Map(descriptors.map((d) => [d.digest, d]));
    await settleAll(
      [...unique.values()].map(async (d) => {
        const outcome = await this.blobs.ensure(from, to, d, d === config ? configBytes : undefined);
        tally.add(outcome, d.size);
      }),
    );
    return platforms;
  }
}

/**
 * Promise.all that waits for every operation to settle before it rethrows the first failure: an image that fails
 * leaves none of its transfers still writing (a layout's temporary files, an archive's staging directory that is
 * removed as soon as the copy is over).
 */
async function settleAll(operations: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(operations);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A small blob read whole and verified against its descriptor, retried like any transfer. */
async function readBlob(source: ImageStore, from: RepositoryLocation, descriptor: Descriptor): Promise<Buffer> {
  return withRetries(source.retry, async () => {
    const blob = await source.getBlob(from.registry, from.repository, descriptor.digest);
    const verify = new VerifyStream(descriptor.digest, descriptor.size, from);
    pipeline(blob.body, verify, () => undefined);
    const parts: Buffer[] = [];
    for await (const chunk of verify) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  });
}

/** The `error` of a failed result: typed errors as they are; an abort (e.g. `--timeout`) named as such. */
function errorOfCopy(error: unknown): { code: string; message: string } {
  if (isSwrSyncError(error)) return { code: error.code, message: describeError(error) };
  const abort = abortOf(error);
  // The result line already names the image: the message says why only.
  if (abort)
    return {
      code: 'ERR_ABORTED',
      message: abort.timedOut ? 'the run reached its time limit' : 'the run was cancelled',
    };
  return { code: 'ERR_UNEXPECTED', message: describeError(error) };
}

function notFound(src: Reference): SwrSyncError {
  return new SwrSyncError('ERR_NOT_FOUND', `source image ${src} not found (manifest unknown)`, {
    registry: src.registry,
    repository: src.repository,
  });
}

function platformOfConfig(bytes: Buffer): string[] {
  const platform = platformOfImageConfig(bytes);
  return platform ? [formatPlatform(platform)] : [];
}

/**
 * The destination as written, so results name the tag they wrote: its own tag, else the source's (a tag that
 * `parseReference` only assumed, `latest`, counts as none, so `copy(parseReference(a), parseReference(b))` keeps
 * the source's tag as `swr-sync copy a b` does); a digest-only source is stored by digest.
 */
function destinationOf(src: Reference, dst: Reference): Reference {
  if (dst.digest !== undefined || (dst.tag !== undefined && !dst.tagImplied)) return dst;
  if (src.tag !== undefined) {
    // A layout source's `@N` or a ref name that is no tag cannot name the copy; the destination keeps what it has.
    const usable =
      sourceIndexOf(src.tag) === undefined &&
      (dst.isLayout ? refNameProblem(src.tag) : tagProblem(src.tag)) === undefined;
    return usable ? dst.withTag(src.tag) : dst;
  }
  return src.digest !== undefined ? dst.withTag(undefined) : dst;
}
