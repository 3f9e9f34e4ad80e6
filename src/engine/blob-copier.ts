import { pipeline, Readable } from 'node:stream';
import type { RegistryClient } from '../client/registry-client.js';
import { ContentMismatchError } from '../errors.js';
import type { Descriptor } from '../oci/manifest.js';
import { withRetries } from '../client/retry.js';
import { Limiter } from './limiter.js';
import { VerifyStream } from './verify-stream.js';

export type BlobOutcome = 'copied' | 'mounted' | 'present';

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
  readonly source: RegistryClient;
  readonly destination: RegistryClient;
  /** Blob transfers at once, across all images. @default 8 */
  readonly concurrency?: number;
  /** Called with byte counts as they reach the destination, for progress display. */
  readonly onBytes?: (bytes: number) => void;
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
  /** (destination registry, digest) → where it is. */
  private readonly registryBlobs = new Map<string, RegistryBlob>();
  /** (destination registry/repository, digest) → the one attempt to place it there. */
  private readonly repositoryBlobs = new Map<string, Promise<BlobOutcome>>();

  constructor(options: BlobCopierOptions) {
    this.options = options;
    this.limiter = new Limiter(options.concurrency ?? 8);
  }

  /**
   * Ensures `descriptor` is in `to`, reading it from `from` when needed. `bytes`, when given, are the blob's
   * content already in memory (an image config), so it is not downloaded again.
   */
  ensure(from: RepositoryLocation, to: RepositoryLocation, descriptor: Descriptor, bytes?: Buffer): Promise<BlobOutcome> {
    const key = `${to.registry}/${to.repository}@${descriptor.digest}`;
    let outcome = this.repositoryBlobs.get(key);
    if (!outcome) {
      outcome = this.limiter.run(() => this.place(from, to, descriptor, bytes));
      this.repositoryBlobs.set(key, outcome);
      // A failed attempt is not remembered: a later image (or a rerun of this one) tries again.
      outcome.catch(() => this.repositoryBlobs.get(key) === outcome && this.repositoryBlobs.delete(key));
      return outcome;
    }
    // Placed by another image of this run: for this image the bytes were not transferred.
    return outcome.then(() => 'present' as const);
  }

  private async place(from: RepositoryLocation, to: RepositoryLocation, descriptor: Descriptor, bytes?: Buffer): Promise<BlobOutcome> {
    const { destination } = this.options;
    const registryKey = `${to.registry}@${descriptor.digest}`;
    let known = this.registryBlobs.get(registryKey);
    while (known?.inFlight) await known.inFlight.catch(() => undefined);
    known = this.registryBlobs.get(registryKey);
    if (!known) {
      known = { repositories: new Set(), inFlight: undefined };
      this.registryBlobs.set(registryKey, known);
    }
    if (known.repositories.has(to.repository)) return 'present';

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
      } else if (await destination.hasBlob(to.registry, to.repository, descriptor.digest, 'push')) {
        known.repositories.add(to.repository);
        return 'present';
      }
      await this.transfer(from, to, descriptor, bytes, location);
      known.repositories.add(to.repository);
      return 'copied';
    } finally {
      known.inFlight = undefined;
      done();
    }
  }

  /** Streams one blob with retries; each attempt re-reads the source from the start. */
  private async transfer(from: RepositoryLocation, to: RepositoryLocation, descriptor: Descriptor, bytes: Buffer | undefined, location: string | undefined): Promise<void> {
    const { source, destination } = this.options;
    let sent = 0;
    const open = async (): Promise<Readable> => {
      const verify = new VerifyStream(descriptor.digest, descriptor.size, from);
      verify.onBytes = (n) => {
        sent += n;
        this.options.onBytes?.(n);
      };
      if (bytes) return Readable.from([bytes]).pipe(verify);
      const blob = await source.getBlob(from.registry, from.repository, descriptor.digest);
      if (blob.size !== undefined && blob.size !== descriptor.size) {
        blob.body.destroy();
        throw new ContentMismatchError('ERR_SIZE_MISMATCH', `blob ${descriptor.digest} from ${from.registry}/${from.repository} (Content-Length)`, descriptor.size, blob.size, { ...from, retryable: true });
      }
      // pipeline() destroys both sides on error; the consumer sees the error through `verify`.
      pipeline(blob.body, verify, () => undefined);
      return verify;
    };
    await withRetries(destination.retry, async (attempt) => {
      if (sent > 0) {
        // Progress counted for a failed attempt is taken back.
        this.options.onBytes?.(-sent);
        sent = 0;
      }
      await destination.uploadBlob(to.registry, to.repository, descriptor.digest, descriptor.size, open, attempt === 0 ? location : undefined);
    }, unwrapStreamError);
  }
}

/** undici wraps a failed request body in its own error; the reason the body failed is the useful one. */
function unwrapStreamError(error: unknown): unknown {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (e instanceof ContentMismatchError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return error;
}
