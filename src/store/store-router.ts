import type { Readable } from 'node:stream';
import { InvalidReferenceError, type SwrSyncError } from '../errors.js';
import { digestProblem } from '../oci/digest.js';
import { isLayoutRegistry, tagProblem } from '../oci/reference.js';
import type { ImageStore } from './image-store.js';
import type { Descriptor } from '../oci/manifest.js';
import { OciLayoutStore, type ArchiveOutcome } from './oci-layout.js';
import {
  RegistryClient,
  type Access,
  type BlobBody,
  type FetchedManifest,
  type ManifestHead,
  type RegistryClientOptions,
} from '../client/registry-client.js';
import type { RetryPolicy } from '../client/retry.js';

/**
 * One store for both kinds of place an image reference can name: OCI layouts (`oci:` / `oci-archive:`, whose
 * registry is the transport) go to the layout store, everything else to the registry client. The engine and the
 * planner see one ImageStore per side and never ask which kind a reference is.
 */
export class StoreRouter implements ImageStore {
  readonly retry: RetryPolicy;
  readonly registries: RegistryClient;
  readonly layouts: OciLayoutStore;

  constructor(registries: RegistryClient, layouts: OciLayoutStore) {
    this.registries = registries;
    this.layouts = layouts;
    this.retry = registries.retry;
  }

  /** The stores of one side of a copy: a registry client, and layouts that are read (source) or written (destination). */
  static open(side: 'source' | 'destination', options: RegistryClientOptions): StoreRouter {
    return new StoreRouter(
      new RegistryClient(options),
      new OciLayoutStore({
        archives: side === 'source' ? 'read' : 'write',
        ...(options.retry ? { retry: options.retry } : {}),
      }),
    );
  }

  headManifest(registry: string, repository: string, ref: string, access?: Access): Promise<ManifestHead | undefined> {
    return this.pick(registry).headManifest(registry, repository, ref, access);
  }

  prefetchManifestHead(registry: string, repository: string, ref: string, access?: Access): void {
    if (!isLayoutRegistry(registry)) this.registries.prefetchManifestHead(registry, repository, ref, access);
  }

  getManifest(registry: string, repository: string, ref: string, access?: Access): Promise<FetchedManifest> {
    return this.pick(registry).getManifest(registry, repository, ref, access);
  }

  /**
   * A layout's ref names allow more than registry tags do (`/`, `:`, `@`, `+`); such a name carried over to a
   * registry is refused here with the rule, rather than as whatever the registry makes of the URL.
   */
  putManifest(registry: string, repository: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    if (
      !isLayoutRegistry(registry) &&
      (ref.includes(':') ? digestProblem(ref) !== undefined : tagProblem(ref) !== undefined)
    ) {
      const problem = tagProblem(ref) ?? 'a tag has no ":"';
      return Promise.reject(
        new InvalidReferenceError(
          `${registry}/${repository}:${ref}`,
          `"${ref}" (an OCI layout ref name) is not a registry tag: ${problem}; give the destination a tag of its own`,
        ),
      );
    }
    return this.pick(registry).putManifest(registry, repository, ref, bytes, mediaType);
  }

  listTags(registry: string, repository: string, access?: Access): Promise<string[]> {
    return this.pick(registry).listTags(registry, repository, access);
  }

  hasBlob(registry: string, repository: string, digest: string, access?: Access): Promise<boolean> {
    return this.pick(registry).hasBlob(registry, repository, digest, access);
  }

  getBlob(registry: string, repository: string, digest: string, offset?: number): Promise<BlobBody> {
    return this.pick(registry).getBlob(registry, repository, digest, offset);
  }

  mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    return this.pick(registry).mountBlob(registry, repository, digest, from);
  }

  uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: (offset?: number) => Promise<Readable>,
    location?: string,
  ): Promise<void> {
    return this.pick(registry).uploadBlob(registry, repository, digest, size, open, location);
  }

  /**
   * OCI 1.1 referrers API. A layout has none (undefined, as a registry answering 404): referrers stored in a layout
   * are found through the referrers tag schema (`sha256-<hex>` ref names) and cosign's tags, like any tag.
   */
  async listReferrers(
    registry: string,
    repository: string,
    digest: string,
    access?: Access,
  ): Promise<Descriptor[] | undefined> {
    if (isLayoutRegistry(registry)) return undefined;
    return this.registries.listReferrers(registry, repository, digest, access);
  }

  /** The registries' rate and bandwidth limiter (layouts are local files: not limited). */
  get limiter(): RegistryClient['limiter'] {
    return this.registries.limiter;
  }

  /** Retries so far (registry requests and transfers; a layout's file operations are not retried). */
  get retryCount(): number {
    return this.registries.retryCount;
  }

  /** Writes the archive destinations of the run (see OciLayoutStore.finish). */
  finish(): Promise<ArchiveOutcome[]> {
    return this.layouts.finish();
  }

  /** An interrupted run writes no archive: see OciLayoutStore.abandon. */
  abandon(error: SwrSyncError): Promise<ArchiveOutcome[]> {
    return this.layouts.abandon(error);
  }

  /** Drops unfinished archive staging directories. Registry connections belong to whoever made the transport. */
  discard(): Promise<void> {
    return this.layouts.discard();
  }

  private pick(registry: string): ImageStore {
    return isLayoutRegistry(registry) ? this.layouts : this.registries;
  }
}
