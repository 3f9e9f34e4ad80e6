import { ContentMismatchError, SwrSyncError } from '../errors.js';
import { digestAlgorithm, digestOf } from '../oci/digest.js';
import {
  blobPath,
  checkLayoutMarker,
  findManifest,
  INDEX_FILE,
  INDEX_MAX_BYTES,
  LAYOUT_MARKER_FILE,
  parseLayoutIndex,
  refNames,
  type LayoutIndex,
} from '../oci/layout-index.js';
import { MANIFEST_MAX_BYTES } from '../oci/manifest.js';
import type { BlobBody, FetchedManifest, ManifestHead } from '../client/registry-client.js';
import { isDigest, type LayoutFiles } from './layout-files.js';

const MARKER_MAX_BYTES = 64 * 1024;

/** Reads one layout (directory or archive): index.json, tags, manifests and blobs, each checked against its digest. */
export class LayoutReader {
  constructor(
    private readonly where: string,
    private readonly location: { registry: string; repository: string },
    private readonly files: LayoutFiles,
  ) {}

  /** index.json, or undefined when the layout does not exist (yet). */
  async index(): Promise<LayoutIndex | undefined> {
    const bytes = await this.files.read(INDEX_FILE, INDEX_MAX_BYTES);
    if (!bytes) return undefined;
    const marker = await this.files.read(LAYOUT_MARKER_FILE, MARKER_MAX_BYTES);
    if (marker) checkLayoutMarker(marker, this.where);
    return parseLayoutIndex(bytes, this.where);
  }

  /** The descriptor `ref` (ref name, `@N`, '' or a digest) resolves to, or undefined. */
  async resolve(ref: string): Promise<{ digest: string; mediaType?: string; size?: number } | undefined> {
    const index = await this.index();
    if (isDigest(ref)) {
      const size = await this.files.size(blobPath(ref));
      if (size === undefined) return undefined;
      const listed = index?.manifests.find((d) => d.digest === ref);
      return { digest: ref, size, ...(listed ? { mediaType: listed.mediaType } : {}) };
    }
    if (!index) return undefined;
    const display = ref === '' ? this.where : `${this.where}:${ref}`;
    return findManifest(index, ref, display);
  }

  async headManifest(ref: string): Promise<ManifestHead | undefined> {
    const found = await this.resolve(ref);
    if (!found) return undefined;
    let mediaType = found.mediaType;
    if (mediaType === undefined)
      mediaType = declaredMediaType(await this.files.read(blobPath(found.digest), MANIFEST_MAX_BYTES));
    return { digest: found.digest, mediaType, size: found.size };
  }

  async getManifest(ref: string): Promise<FetchedManifest> {
    const found = await this.resolve(ref);
    if (!found) {
      const index = await this.index();
      throw new SwrSyncError(
        'ERR_NOT_FOUND',
        index
          ? `${this.where} has no image ${isDigest(ref) ? ref : `named "${ref}"`} (ref names: ${refNames(index).join(', ') || 'none'})`
          : `${this.where} is not an OCI image layout: ${INDEX_FILE} is missing${this.location.registry === 'oci' ? ' (a tar of a layout is read with oci-archive:)' : ''}`,
        this.location,
      );
    }
    const path = blobPath(found.digest);
    const bytes = await this.files.read(path, MANIFEST_MAX_BYTES);
    if (!bytes)
      throw new SwrSyncError(
        'ERR_NOT_FOUND',
        `${this.where}: manifest ${found.digest} is listed but ${path} is missing`,
        this.location,
      );
    const digest = digestOf(bytes, digestAlgorithm(found.digest));
    if (digest !== found.digest) {
      throw new ContentMismatchError(
        'ERR_DIGEST_MISMATCH',
        `${this.where}: manifest ${path}`,
        found.digest,
        digest,
        this.location,
      );
    }
    return { bytes, mediaType: found.mediaType ?? declaredMediaType(bytes), digest };
  }

  async listTags(): Promise<string[]> {
    const index = await this.index();
    return index ? refNames(index) : [];
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.files.size(blobPath(digest))) !== undefined;
  }

  /** The blob from `offset` on (a resumed read of a file is a read from a later position). */
  async getBlob(digest: string, offset = 0): Promise<BlobBody> {
    const opened = await this.files.open(blobPath(digest), offset);
    if (!opened)
      throw new SwrSyncError(
        'ERR_NOT_FOUND',
        `${this.where}: blob ${digest} is missing (${blobPath(digest)})`,
        this.location,
      );
    const starts = Math.min(offset, opened.size);
    return { body: opened.body, size: opened.size - starts, offset: starts };
  }
}

/** A manifest's own `mediaType` field, for a manifest index.json does not list. */
function declaredMediaType(bytes: Buffer | undefined): string | undefined {
  if (!bytes) return undefined;
  try {
    const type = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
