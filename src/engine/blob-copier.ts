import { addAbortSignal, pipeline, Readable } from 'node:stream';
import type { ImageStore } from '../store/image-store.js';
import { ContentMismatchError, isSwrSyncError, SwrSyncError } from '../errors.js';
import type { Descriptor } from '../oci/manifest.js';
import { withRetries } from '../client/retry.js';
import { Limiter } from '../util/limiter.js';
import { resumableRead, RewindableRead, type ResumableReadOptions } from './resumable-read.js';
import { HashCheckpoints, VerifyStream } from './verify-stream.js';
import { digestAlgorithm } from '../oci/digest.js';
import { isLayoutRegistry } from '../oci/reference.js';
import { RESUMABLE_MIN_BYTES } from '../client/upload.js';
import { DEFAULT_CONNECTIONS_PER_ORIGIN } from '../defaults.js';
import { BlobSpool, sweepStaleSpools } from './blob-spool.js';

export type BlobOutcome = 'copied' | 'mounted' | 'present';

/** Blobs from this size on take a slot of the narrow pool (`BlobCopierOptions.concurrency`). */
const LARGE_BLOB_BYTES = RESUMABLE_MIN_BYTES;
/** Blobs from this size on record their digest state as they stream, for resumed uploads (RESUMABLE_MIN_BYTES). */
const CHECKPOINT_FROM_BYTES = 8 * 1024 * 1024;
/** Digest state every MiB: a resumed upload reads less than 1 MiB of the source twice. */
const CHECKPOINT_EVERY = 1024 * 1024;
/** Bytes of a large blob's read kept for an upload that resumes behind it: about what a long, fast link has in flight. */
const REWIND_BYTES = 8 * 1024 * 1024;
/**
 * Blobs from this size on, read from a registry, are spooled to disk as they stream (blob-spool.ts): the size from
 * which uploads go up resumably (docs/transfers.md, "An upload that is cut"), so the blobs whose upload may start
 * over in a new session after a cut. Below it a restart re-reads at most 32 MiB, and the in-memory history covers
 * the usual resume; a file per small blob would cost more disk traffic than it saves.
 */
const SPOOL_FROM_BYTES = RESUMABLE_MIN_BYTES;

/**
 * Blobs at least this large are checked with HEAD before an upload (re-sending them would cost more than a
 * request); smaller ones go straight to a POST that doubles as the existence check. ocync's finding: a new blob
 * should cost 2 requests (POST + PUT), not 3.
 */
const HEAD_FIRST_BYTES = 8 * 1024 * 1024;

export interface RepositoryLocation {
  readonly registry: string;
  readonly repository: string;
}

interface RegistryBlob {
  /** Destination repositories known to hold the blob (this run wrote or saw it there). */
  readonly repositories: Set<string>;
  /** The one transfer of this digest into this registry that is under way. */
  inFlight: Promise<unknown> | undefined;
}

export interface BlobCopierOptions {
  readonly source: ImageStore;
  readonly destination: ImageStore;
  /** Transfers of large blobs (32 MiB and more: bandwidth-bound, each with a rewind buffer) at once. @default 8 */
  readonly concurrency?: number;
  /**
   * Placements of smaller blobs (a mount, or a transfer of a few round trips) at once, across all images: on a long
   * round trip they are latency-bound, so a narrow pool would leave the links idle. @default 32, the connections
   * per origin
   */
  readonly smallConcurrency?: number;
  /** Called with byte counts as they reach the destination, for progress display. */
  readonly onBytes?: (bytes: number) => void;
  /** The run's cancellation: no new resume of a cut download starts once it fires. */
  readonly signal?: AbortSignal;
}

/**
 * Moves blobs into destination repositories so that each (registry, digest) is transferred at most once per run:
 * the first repository that needs a blob uploads it (HEAD first, then GET → verify → POST + streaming PUT); every
 * later repository of the same registry gets it by cross-repository mount, and a repository that already asked
 * for it shares the first answer.
 */
export class BlobCopier {
  private readonly options: BlobCopierOptions;
  private readonly limiter: Limiter;
  private readonly smallLimiter: Limiter;
  /** (destination registry, digest) → where it is. */
  private readonly registryBlobs = new Map<string, RegistryBlob>();
  /** (destination registry/repository, digest) → the one attempt to place it there. */
  private readonly repositoryBlobs = new Map<string, Promise<BlobOutcome>>();

  constructor(options: BlobCopierOptions) {
    this.options = options;
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.smallLimiter = new Limiter(options.smallConcurrency ?? DEFAULT_CONNECTIONS_PER_ORIGIN);
  }

  /**
   * Ensures `descriptor` is in `to`, reading it from `from` when needed. `bytes`, when given, are the blob's
   * content already in memory (an image config), so it is not downloaded again.
   */
  ensure(
    from: RepositoryLocation,
    to: RepositoryLocation,
    descriptor: Descriptor,
    bytes?: Buffer,
  ): Promise<BlobOutcome> {
    const key = `${to.registry}/${to.repository}@${descriptor.digest}`;
    let outcome = this.repositoryBlobs.get(key);
    if (!outcome) {
      // Wait for another repository's transfer of this digest before taking a slot, so slots are never held idle.
      outcome = this.settled(`${to.registry}@${descriptor.digest}`).then(() =>
        (descriptor.size >= LARGE_BLOB_BYTES ? this.limiter : this.smallLimiter).run(() =>
          this.place(from, to, descriptor, bytes),
        ),
      );
      this.repositoryBlobs.set(key, outcome);
      // A failed attempt is not remembered: a later image (or a rerun of this one) tries again.
      outcome.catch(() => this.repositoryBlobs.get(key) === outcome && this.repositoryBlobs.delete(key));
      return outcome;
    }
    // Placed by another image of this run: for this image the bytes were not transferred.
    return outcome.then(() => 'present' as const);
  }

  private async settled(registryKey: string): Promise<void> {
    for (
      let known = this.registryBlobs.get(registryKey);
      known?.inFlight;
      known = this.registryBlobs.get(registryKey)
    ) {
      await known.inFlight.catch(() => undefined);
    }
  }

  private async place(
    from: RepositoryLocation,
    to: RepositoryLocation,
    descriptor: Descriptor,
    bytes?: Buffer,
  ): Promise<BlobOutcome> {
    const { destination } = this.options;
    const registryKey = `${to.registry}@${descriptor.digest}`;
    await this.settled(registryKey);
    let known = this.registryBlobs.get(registryKey);
    if (!known) {
      known = { repositories: new Set(), inFlight: undefined };
      this.registryBlobs.set(registryKey, known);
    }
    if (known.repositories.has(to.repository)) return 'present';

    this.options.signal?.throwIfAborted();
    let done!: () => void;
    known.inFlight = new Promise<void>((resolve) => (done = resolve));
    try {
      let location: string | undefined;
      const mountFrom = [...known.repositories].pop();
      if (mountFrom !== undefined) {
        const mount = await destination.mountBlob(to.registry, to.repository, descriptor.digest, mountFrom);
        if (mount.mounted) {
          known.repositories.add(to.repository);
          return 'mounted';
        }
        location = mount.location;
      } else if (descriptor.size >= HEAD_FIRST_BYTES) {
        if (await destination.hasBlob(to.registry, to.repository, descriptor.digest, 'push')) {
          known.repositories.add(to.repository);
          return 'present';
        }
      } else {
        // A mount from the repository itself is an existence check and the upload POST in one request:
        // distribution links a blob the repository already has (201) and opens an upload session otherwise (202).
        // A registry that never mounts answers 202 and the small blob is sent again, which is harmless.
        const mount = await destination.mountBlob(to.registry, to.repository, descriptor.digest, to.repository);
        if (mount.mounted) {
          known.repositories.add(to.repository);
          return 'present';
        }
        location = mount.location;
      }
      await this.transfer(from, to, descriptor, bytes, location);
      known.repositories.add(to.repository);
      return 'copied';
    } finally {
      known.inFlight = undefined;
      done();
    }
  }

  /**
   * Streams one blob with retries; each attempt re-reads the source from the start, and a resumed upload (`open`
   * with an offset) from the last digest checkpoint before that offset.
   */
  private async transfer(
    from: RepositoryLocation,
    to: RepositoryLocation,
    descriptor: Descriptor,
    bytes: Buffer | undefined,
    location: string | undefined,
  ): Promise<void> {
    const { source, destination } = this.options;
    let sent = 0;
    const checkpoints =
      descriptor.size >= CHECKPOINT_FROM_BYTES
        ? new HashCheckpoints(CHECKPOINT_EVERY, digestAlgorithm(descriptor.digest))
        : undefined;
    const open = async (offset = 0): Promise<Readable> => {
      // Progress restarts where the stream does.
      this.options.onBytes?.(offset - sent);
      sent = offset;
      const from0 = offset > 0 && checkpoints ? checkpoints.atOrBefore(offset) : undefined;
      if (offset > 0 && !from0)
        throw new SwrSyncError(
          'ERR_REGISTRY_RESPONSE',
          `blob ${descriptor.digest}: the registry resumed an upload at byte ${offset} of a blob too small to resume`,
          to,
        );
      const verify = new VerifyStream(descriptor.digest, descriptor.size, from, {
        ...(from0 ? { resume: { from: from0, skipUntil: offset } } : {}),
        ...(checkpoints ? { checkpoints } : {}),
      });
      verify.onBytes = (n) => {
        sent += n;
        this.options.onBytes?.(n);
      };
      const start = from0?.offset ?? 0;
      if (bytes) return Readable.from([bytes.subarray(start)]).pipe(verify);
      // A download cut mid-way continues from the byte it stopped at, into the same verifier (resumable-read.ts);
      // a large blob's read is shared by the attempts of its upload, which resume a little behind it.
      const body = rewindable ? rewindable.open(start) : resumableRead(readOptions(start));
      // pipeline() destroys both sides on error; the consumer sees the error through `verify`.
      pipeline(body, verify, () => undefined);
      // An interrupted run cuts the transfer whatever the destination is (a layout's write has no request to abort).
      if (this.options.signal) addAbortSignal(this.options.signal, verify);
      return verify;
    };
    const readOptions = (start: number): ResumableReadOptions => ({
      store: {
        getBlob: async (registry, repository, digest, offset) => {
          const blob = await source.getBlob(registry, repository, digest, offset);
          const expected = descriptor.size - (blob.offset ?? 0);
          if (blob.size !== undefined && blob.size !== expected) {
            // An undici body destroyed before its end emits 'error' (RequestAbortedError): without a listener that is
            // an uncaught exception that ends the whole run, not just this image.
            blob.body.on('error', () => undefined);
            blob.body.destroy();
            throw new ContentMismatchError(
              'ERR_SIZE_MISMATCH',
              `blob ${descriptor.digest} from ${from.registry}/${from.repository} (Content-Length)`,
              expected,
              blob.size,
              { ...from, retryable: true },
            );
          }
          return blob;
        },
      },
      ...from,
      digest: descriptor.digest,
      size: descriptor.size,
      offset: start,
      retry: source.retry,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    // A layout source is a local file already, read again from any offset; a layout destination has no session to lose.
    const betweenRegistries = !isLayoutRegistry(from.registry) && !isLayoutRegistry(to.registry);
    // What a run killed outright left in the temp dir goes with the next run that copies between registries.
    if (betweenRegistries) void sweepStaleSpools();
    const spool =
      checkpoints && !bytes && descriptor.size >= SPOOL_FROM_BYTES && betweenRegistries
        ? await BlobSpool.create({ limit: descriptor.size })
        : undefined;
    const rewindable = checkpoints && !bytes ? new RewindableRead(readOptions(0), REWIND_BYTES, spool) : undefined;
    try {
      await withRetries(
        destination.retry,
        async (attempt) => {
          try {
            await destination.uploadBlob(
              to.registry,
              to.repository,
              descriptor.digest,
              descriptor.size,
              open,
              attempt === 0 ? location : undefined,
            );
          } catch (error) {
            // The bytes did not match the digest: the spool's may be the bad ones (it is never trusted), so the next
            // attempt reads the source again.
            const code = (unwrapStreamError(error) as { code?: unknown }).code;
            if (spool?.usable && (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH'))
              await spool.discard();
            throw error;
          }
        },
        unwrapStreamError,
      );
    } finally {
      rewindable?.close();
      await spool?.discard();
    }
  }
}

/**
 * undici wraps a failed request body in its own error; the reason the body failed is the useful one: a typed error
 * under the upload's own (a digest mismatch, or the source read's failure, e.g. a range the source ignored).
 */
function unwrapStreamError(error: unknown): unknown {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (e instanceof ContentMismatchError || (depth > 0 && isSwrSyncError(e))) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return error;
}
