import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import type { BlobCounts } from './image-result.js';
import type { BlobOutcome, RepositoryLocation } from './blob-copier.js';

/** Per-image tally, folded into the ImageResult. */
export class Tally {
  /** Bytes of blobs streamed from the source into the destination. */
  bytesTransferred = 0;
  /** Bytes not streamed: blobs the destination had or got by a mount, child manifests it had already. */
  bytesSkipped = 0;
  /** How many blobs were copied, mounted or found present. */
  readonly blobs: BlobCounts = { copied: 0, mounted: 0, present: 0 };
  /** Counts one blob of `size` bytes by what happened to it. */
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
export class ImageWalk {
  /** Manifests visited so far. */
  manifests = 0;
  /** The first failure of the walk, if any. */
  failure: { error: unknown } | undefined;
  /**
   * @param name the image, as error messages name it
   * @param where the source repository, for errors
   */
  constructor(
    readonly name: string,
    readonly where: RepositoryLocation,
  ) {}

  /** Counts one more manifest; throws once the image has more than `manifestsPerImage`. */
  visit(): void {
    if (++this.manifests > BUDGETS.manifestsPerImage)
      throw limitExceeded('manifestsPerImage', `image ${this.name}`, this.where);
  }
}

/**
 * Promise.all that waits for every operation to settle before it rethrows the first failure: an image that fails
 * leaves none of its transfers still writing (a layout's temporary files, an archive's staging directory that is
 * removed as soon as the copy is over).
 */
export async function settleAll(operations: readonly Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(operations);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
