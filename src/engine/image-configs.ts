import { pipeline } from 'node:stream';
import type { ImageStore } from '../store/image-store.js';
import { withRetries } from '../client/retry.js';
import { BUDGETS } from '../oci/budgets.js';
import type { Descriptor } from '../oci/manifest.js';
import { formatPlatform, platformOfImageConfig } from '../oci/platform.js';
import type { RepositoryLocation } from './blob-copier.js';
import { VerifyStream } from './verify-stream.js';

/** The media types of an image config (OCI and Docker): the blobs that name an image's platform. */
export const IMAGE_CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
/**
 * Configs up to this size are read into memory (for the platform they name) and uploaded from there; larger ones
 * (rare: a long build history) are streamed like layers, so a registry serving huge configs costs no memory.
 */
export const CONFIG_PEEK_LIMIT = 1024 * 1024;

/** A small blob read whole and verified against its descriptor, retried like any transfer. */
export async function readBlob(source: ImageStore, from: RepositoryLocation, descriptor: Descriptor): Promise<Buffer> {
  return withRetries(source.retry, async () => {
    const blob = await source.getBlob(from.registry, from.repository, descriptor.digest);
    const verify = new VerifyStream(descriptor.digest, descriptor.size, from);
    pipeline(blob.body, verify, () => undefined);
    const parts: Buffer[] = [];
    for await (const chunk of verify) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  });
}

/** The platform an image config names, formatted (`os/arch[/variant]`); none for a config that names none. */
export function platformOfConfig(bytes: Buffer): string[] {
  const platform = platformOfImageConfig(bytes);
  return platform ? [formatPlatform(platform)] : [];
}

/**
 * The image configs of a run, read once while they stay in a bounded cache (least recently used out first, at most
 * `BUDGETS.configCacheBytes` together); images that share a config being read wait for the same read.
 */
export class ConfigCache {
  /** Image configs being read, by source registry and digest: images that share one wait for the same read. */
  private readonly configReads = new Map<string, Promise<Buffer>>();
  /** Image configs read this run, least recently used first, at most `configCacheBytes` together. */
  private readonly configCache = new Map<string, Buffer>();
  private configCacheBytes = 0;

  /**
   * An image config, read once per run while it stays in the bounded cache (least recently used out first):
   * `configCacheBytes` whatever the number of distinct configs a registry serves.
   */
  read(source: ImageStore, from: RepositoryLocation, config: Descriptor): Promise<Buffer> {
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
}
