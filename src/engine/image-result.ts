/** What every run reports per image (docs/architecture.md, "The contract"). Plain data: serialisable as JSON. */
/**
 * `skipped`: left out on purpose by a platform filter (`--platform`, `--os`/`--arch`): a single-platform image of
 * another platform, or an index with no child of a wanted platform. image-syncer skips those too; not a failure.
 */
export type ImageStatus = 'copied' | 'unchanged' | 'skipped' | 'failed';

/** What happened to the blobs (layers and configs) of one image. */
export interface BlobCounts {
  /** Streamed from the source into the destination. */
  copied: number;
  /** Linked from another repository of the destination registry (cross-repository mount). */
  mounted: number;
  /** Already present in the destination repository. */
  present: number;
}

/** Signatures, attestations and SBOMs copied with an image (`--with-referrers`). */
export interface ReferrerCounts {
  /**
   * Manifests found that refer to the image or to a child of its index: OCI 1.1 referrers (API or `sha256-<hex>`
   * tag) and cosign's `.sig`/`.att`/`.sbom` tags, and one level of referrers of those.
   */
  found: number;
  /** Of those, written to the destination by this run (the others were there already). */
  copied: number;
  /** Tags written by this run: referrers tag schema indexes and cosign tags. */
  tags: number;
  /** Found but left out on purpose: referrers of a source index that a platform filter replaced (see `note`). */
  skipped: number;
}

/** The result of one image of a run: what was read, what the destination holds, what it cost. Plain data (JSON). */
export interface ImageResult {
  readonly source: string;
  readonly destination: string;
  /** Digest of the source manifest or index that was read. */
  readonly sourceDigest?: string;
  /** Digest stored at the destination (equal to `sourceDigest` unless a platform filter rewrote the index). */
  readonly digest?: string;
  readonly mediaType?: string;
  /** `os/arch[/variant]` of the images copied (attestations excluded). */
  readonly platforms: string[];
  readonly bytesTransferred: number;
  readonly bytesSkipped: number;
  readonly blobs: BlobCounts;
  readonly status: ImageStatus;
  /** Present when the destination digest differs from the source's on purpose (platform filter). */
  readonly note?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** With `--with-referrers`: what refers to the image (its bytes and blobs are included in the counts above). */
  readonly referrers?: ReferrerCounts;
  readonly durationMs: number;
}
