/** What every run reports per image (DESIGN §2, "Output of every run"). Plain data: serialisable as JSON. */
export type ImageStatus = 'copied' | 'unchanged' | 'failed';

export interface BlobCounts {
  /** Streamed from the source into the destination. */
  copied: number;
  /** Linked from another repository of the destination registry (cross-repository mount). */
  mounted: number;
  /** Already present in the destination repository. */
  present: number;
}

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
  readonly durationMs: number;
}
