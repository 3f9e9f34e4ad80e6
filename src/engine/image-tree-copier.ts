import type { ImageStore } from '../store/image-store.js';
import { SwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import {
  isNonDistributable,
  parseManifest,
  type Descriptor,
  type ImageManifest,
  type Manifest,
} from '../oci/manifest.js';
import { formatPlatform, platformMatches, platformOfImageConfig, type Platform } from '../oci/platform.js';
import type { Reference } from '../oci/reference.js';
import type { BlobCopier, RepositoryLocation } from './blob-copier.js';
import { ByteBudget } from '../util/byte-budget.js';
import { Limiter } from '../util/limiter.js';
import { CONFIG_PEEK_LIMIT, ConfigCache, IMAGE_CONFIG_TYPES, platformOfConfig } from './image-configs.js';
import { settleAll, type ImageWalk, type Tally } from './image-walk.js';

/** What an {@link ImageTreeCopier} copies between and with. */
export interface ImageTreeCopierOptions {
  readonly source: ImageStore;
  readonly destination: ImageStore;
  /** The run's blob copier (shared by all images, so blobs are deduplicated across them). */
  readonly blobs: BlobCopier;
  /** Cancels the run: no manifest is written once it is aborted. */
  readonly signal?: AbortSignal;
}

/**
 * What lies under a top-level manifest, for the run's CopyEngine: an image manifest's config and layers, an index's
 * child manifests (nested indexes included), children before parents. Manifests written and configs read are
 * remembered for the whole run, so images that share them copy or read them once.
 */
export class ImageTreeCopier {
  private readonly options: ImageTreeCopierOptions;
  /** Manifests already written this run, per destination repository: a second image sharing one skips it. */
  private readonly manifestsWritten = new Map<string, Promise<void>>();
  /** Image configs of the run, read once while they stay in a bounded cache. */
  private readonly configs = new ConfigCache();
  /** Bytes of child manifests held at once, all images together. */
  private readonly manifestMemory = new ByteBudget(BUDGETS.manifestMemoryBytes);

  constructor(options: ImageTreeCopierOptions) {
    this.options = options;
  }

  /**
   * The children of an index, `indexConcurrency` at a time at every level of nesting; after the first failure the
   * children not yet started are skipped.
   */
  async copyChildren(
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

  /** Config and layers of one image manifest; returns the image's platform when its config says so. */
  async copyImageBlobs(
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
      configBytes = await this.configs.read(source, from, config);
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
        const outcome = await this.options.blobs.ensure(from, to, d, d === config ? configBytes : undefined);
        tally.add(outcome, d.size);
      }),
    );
    return platforms;
  }
}
