import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/manifest.js';
import type { Access, BlobBody, FetchedManifest, ManifestHead } from '../client/registry-client.js';

export type { BlobBody } from '../client/registry-client.js';
import type { RetryPolicy } from '../client/retry.js';

/**
 * What the copy engine and the planner need from a place images live: exactly the calls they make, in the terms of
 * the distribution API (repositories, references, digests, streams). `RegistryClient` is one; `OciLayoutStore`
 * (oci: / oci-archive:) is another, where (registry, repository) is (transport, layout path). Keeping this narrow
 * is what lets a layout stand wherever a registry does.
 */
export interface ImageStore {
  /** Retries of a whole blob transfer, applied by the engine around `uploadBlob` and small blob reads. */
  readonly retry: RetryPolicy;
  /** The manifest's digest without reading it; undefined when there is none under `ref`. */
  headManifest(registry: string, repository: string, ref: string, access?: Access): Promise<ManifestHead | undefined>;
  /**
   * Sends a manifest HEAD now that a later `headManifest` with the same arguments takes (a registry overlaps round
   * trips this way; a layout, which needs none, ignores it).
   */
  prefetchManifestHead?(registry: string, repository: string, ref: string, access?: Access): void;
  /** The manifest bytes under `ref` (a tag or a digest), with their digest checked. */
  getManifest(registry: string, repository: string, ref: string, access?: Access): Promise<FetchedManifest>;
  /** Stores the bytes verbatim under `ref` (a tag, or the digest); returns the digest stored. */
  putManifest(registry: string, repository: string, ref: string, bytes: Buffer, mediaType: string): Promise<string>;
  listTags(registry: string, repository: string, access?: Access): Promise<string[]>;
  hasBlob(registry: string, repository: string, digest: string, access?: Access): Promise<boolean>;
  /**
   * The blob's bytes from `offset` (a resumed read); the answer says where its body starts (`offset`, 0 when the
   * store sent the whole blob anyway) and how many bytes it holds (`size`, when known).
   */
  getBlob(registry: string, repository: string, digest: string, offset?: number): Promise<BlobBody>;
  /**
   * Makes a blob known to hold in `from` (another repository of the same registry, or `repository` itself as an
   * existence check) appear in `repository`; otherwise returns where an upload may go (`uploadBlob`'s `location`).
   */
  mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }>;
  /**
   * Stores a blob of known digest and size; `open(offset)` returns its bytes from `offset` (0 but for a resumed
   * upload) and is called once per attempt.
   */
  uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: (offset?: number) => Promise<Readable>,
    location?: string,
  ): Promise<void>;
}

/**
 * A store that can also ask for OCI 1.1 referrers (`GET /v2/<name>/referrers/<digest>`); undefined means it has no
 * referrers API (a registry answering 404, or an OCI layout), and referrers are then found by tag.
 */
export interface ReferrerStore extends ImageStore {
  listReferrers(
    registry: string,
    repository: string,
    digest: string,
    access?: Access,
  ): Promise<Descriptor[] | undefined>;
}
