import type { ImageStore } from '../store/image-store.js';
import type { Access } from '../client/registry-client.js';
import { abortOf, describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import { digestOf } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { formatPlatform, isAttestation, type Platform } from '../oci/platform.js';
import { filterIndex } from '../oci/platform-filter.js';
import { refNameProblem, sourceIndexOf, tagProblem, type Reference } from '../oci/reference.js';
import type { ImageResult } from './image-result.js';
import { BlobCopier, type RepositoryLocation } from './blob-copier.js';
import { CONFIG_PEEK_LIMIT, IMAGE_CONFIG_TYPES, platformOfConfig, readBlob } from './image-configs.js';
import { ImageTreeCopier } from './image-tree-copier.js';
import { ImageWalk, Tally } from './image-walk.js';

/** The two sides of a run and how it copies. */
export interface CopyEngineOptions {
  readonly source: ImageStore;
  readonly destination: ImageStore;
  /** Transfers of large blobs (32 MiB and more) at once, across all images of the run. @default 8 */
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

/** A manifest HEAD that `check()` sends first, so a run can send it ahead (see `firstCheckRequest`). */
export interface CheckRequest {
  readonly side: 'source' | 'destination';
  readonly registry: string;
  readonly repository: string;
  readonly ref: string;
  readonly access: Access;
}

/**
 * The request `check(src, dst, options)` starts with, when it is a manifest HEAD: the source's when the lock vouches
 * for the destination, else the destination's. A run sends it as soon as the image is known (its tag list arrived),
 * and the check takes the answer (`RegistryClient.prefetchManifestHead`), so listing and checking overlap instead of
 * costing a round trip each after the slowest tag list. Must follow `decide()`.
 */
export function firstCheckRequest(src: Reference, dst: Reference, options: CopyOptions = {}): CheckRequest | undefined {
  if (options.platforms !== undefined && options.platforms.length > 0) return undefined;
  const target = destinationOf(src, dst);
  const locked = options.locked;
  if (locked && locked.digest === locked.sourceDigest) {
    return src.digest === undefined && !src.isLayout
      ? { side: 'source', registry: src.registry, repository: src.repository, ref: src.ref, access: 'pull' }
      : undefined;
  }
  const dstRef = destinationCheckRef(src, target);
  if (dstRef === undefined || target.isLayout) return undefined;
  return { side: 'destination', registry: target.registry, repository: target.repository, ref: dstRef, access: 'push' };
}

/** The tag the destination gets: its own, else the source's; a digest-only copy is stored by digest. */
function destinationTag(src: Reference, dst: Reference): string | undefined {
  return dst.tag ?? (dst.digest ? undefined : src.tag);
}

/** What `check()` HEADs at the destination: the tag it gets, else the digest it is stored under. */
function destinationCheckRef(src: Reference, dst: Reference): string | undefined {
  return destinationTag(src, dst) ?? dst.digest ?? src.digest;
}

/** Whether `check()` left the image to copy() (rather than deciding it: unchanged or failed). */
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

/**
 * Copies one image reference with everything under it: index → child manifests → config and layers, children
 * before parents, the tag written last. A failure at any point leaves the destination tag where it was, never on an
 * incomplete image (distribution-spec: a manifest PUT is refused while a referenced blob or manifest is missing,
 * and we PUT bottom-up). Manifest bytes are copied verbatim, so digests are preserved.
 */
export class CopyEngine {
  private readonly options: CopyEngineOptions;
  /** Config, layers and child manifests under the images of the run (manifests written and configs read, shared). */
  private readonly tree: ImageTreeCopier;

  constructor(options: CopyEngineOptions) {
    this.options = options;
    const blobs = new BlobCopier({
      source: options.source,
      destination: options.destination,
      ...(options.blobConcurrency !== undefined ? { concurrency: options.blobConcurrency } : {}),
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    this.tree = new ImageTreeCopier({
      source: options.source,
      destination: options.destination,
      blobs,
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
    const dstRef = destinationCheckRef(src, dst);
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
    const dstTag = destinationTag(src, dst);

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
      await this.tree.copyChildren(from, to, children, tally, 1, new ImageWalk(src.toString(), from));
    } else {
      platforms = await this.tree.copyImageBlobs(
        from,
        to,
        manifest,
        tally,
        filtering ? options.platforms : undefined,
        src,
      );
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
