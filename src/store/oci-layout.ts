import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ContentMismatchError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { digestAlgorithm, digestOf } from '../oci/digest.js';
import { BLOBS_DIR, INDEX_FILE, LAYOUT_MARKER_FILE } from '../oci/layout-index.js';
import { isLayoutRegistry, Reference, type LayoutTransport } from '../oci/reference.js';
import type { ImageStore } from './image-store.js';
import type { Access, BlobBody, FetchedManifest, ManifestHead } from '../client/registry-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../client/retry.js';
import { writeTar, type TarSource } from './tar.js';
import { ArchiveFiles, DirectoryFiles, isDigest, layoutError, NO_FILES } from './layout-files.js';
import { LayoutReader } from './layout-reader.js';
import { LayoutWriter } from './layout-writer.js';
import { archiveTemporaryName, removeStaleTemporaries, stagingPrefix } from './temporaries.js';

/**
 * OCI image layouts as an image store (image-spec image-layout.md; skopeo's `oci:` and `oci-archive:`
 * transports): the registry is the transport, the repository the layout's absolute path, a tag a ref name in
 * index.json, and every blob (manifests too) a file `blobs/<alg>/<encoded>`.
 *
 * Writes are crash-safe the way registry pushes are: a blob is streamed into a temporary file in the layout's
 * root (as skopeo does; never under blobs/), its digest and size checked, fsynced, then renamed into place; a
 * manifest is a blob like any other; index.json is rewritten atomically (temporary file, fsync, rename) only
 * when a tag is written, which the engine does last. A failed or interrupted copy therefore leaves index.json as
 * it was and no partial file under blobs/.
 *
 * `oci-archive:` is a tar of a layout. Read, it is indexed in place (see tar.ts). Written, it is built as a layout
 * in a staging directory beside the target file and turned into the tar by `finish()`, once, after every image of
 * the run: a temporary file beside the target, fsynced, renamed over it. Like skopeo, the archive then holds what
 * this run wrote, whatever the file held before.
 */

export interface OciLayoutStoreOptions {
  /**
   * `read`: an `oci-archive:` is an existing tar (a source). `write`: an `oci-archive:` is built in a staging
   * directory and written by `finish()` (a destination).
   */
  readonly archives: 'read' | 'write';
  readonly retry?: Partial<RetryPolicy>;
}

/** What `finish()` did with one archive destination. */
export interface ArchiveOutcome {
  /** `oci-archive:/path`. */
  readonly name: string;
  readonly written: boolean;
  readonly error?: SwrSyncError;
}
// ---------------------------------------------------------------------------------------------------------------
// The store

interface Layout {
  readonly where: string;
  readonly reader: LayoutReader;
  /** The directory holding the blobs, when there is one: the layout itself, or an archive's staging directory. */
  readonly root?: string;
  /** The writer, its layout created (or checked) first. */
  writer(): Promise<LayoutWriter>;
}

export class OciLayoutStore implements ImageStore {
  readonly retry: RetryPolicy;
  private readonly options: OciLayoutStoreOptions;
  private readonly writers = new Map<string, LayoutWriter>();
  private readonly archiveFiles = new Map<string, ArchiveFiles>();
  /** Archive destination path → its staging directory. */
  private readonly staging = new Map<string, Promise<string>>();

  constructor(options: OciLayoutStoreOptions) {
    this.options = options;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  async headManifest(
    registry: string,
    repository: string,
    ref: string,
    _access?: Access,
  ): Promise<ManifestHead | undefined> {
    return (await this.layout(registry, repository)).reader.headManifest(ref);
  }

  async getManifest(registry: string, repository: string, ref: string, _access?: Access): Promise<FetchedManifest> {
    return (await this.layout(registry, repository)).reader.getManifest(ref);
  }

  /** Writes the manifest as a blob; a tag (ref name) is then recorded in index.json, a digest is not. */
  async putManifest(
    registry: string,
    repository: string,
    ref: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const layout = await this.layout(registry, repository);
    const digest = digestOf(bytes, isDigest(ref) ? digestAlgorithm(ref) : 'sha256');
    if (isDigest(ref) && ref !== digest) {
      throw new ContentMismatchError('ERR_DIGEST_MISMATCH', `manifest for ${layout.where}`, ref, digest, {
        registry,
        repository,
      });
    }
    const writer = await layout.writer();
    await writer.putBytes(digest, bytes);
    if (!isDigest(ref)) await writer.setRef(ref, { mediaType, digest, size: bytes.length });
    return digest;
  }

  async listTags(registry: string, repository: string, _access?: Access): Promise<string[]> {
    return (await this.layout(registry, repository)).reader.listTags();
  }

  async hasBlob(registry: string, repository: string, digest: string, _access?: Access): Promise<boolean> {
    return (await this.layout(registry, repository)).reader.hasBlob(digest);
  }

  async getBlob(registry: string, repository: string, digest: string, offset?: number): Promise<BlobBody> {
    return (await this.layout(registry, repository)).reader.getBlob(digest, offset);
  }

  /**
   * All layouts of one transport form one "registry": a blob another layout of this run holds is hard-linked
   * (or copied) rather than downloaded again. `from === repository` is an existence check.
   */
  async mountBlob(
    registry: string,
    repository: string,
    digest: string,
    from: string,
  ): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const layout = await this.layout(registry, repository);
    if (await layout.reader.hasBlob(digest)) return { mounted: true };
    if (from !== repository) {
      const other = await this.layout(registry, from);
      if (other.root !== undefined) {
        const writer = await layout.writer();
        if (await writer.linkFrom(other.root, digest)) return { mounted: true };
      }
    }
    return { mounted: false, location: '' };
  }

  async uploadBlob(
    registry: string,
    repository: string,
    digest: string,
    size: number,
    open: () => Promise<Readable>,
    _location?: string,
  ): Promise<void> {
    const writer = await (await this.layout(registry, repository)).writer();
    await writer.putBlob(digest, size, await open());
  }

  /**
   * Writes every archive destination of the run: a staging layout that received at least one tagged image becomes
   * the tar at its path (temporary file beside it, fsync, rename); one that received none leaves the file as it
   * was. Staging directories are removed either way.
   */
  async finish(): Promise<ArchiveOutcome[]> {
    const staged = [...this.staging.entries()];
    this.staging.clear();
    return Promise.all(
      staged.map(async ([file, dir]) => {
        const name = new Reference('oci-archive', file).name;
        let root: string | undefined;
        try {
          root = await dir;
          const reader = new LayoutReader(
            name,
            { registry: 'oci-archive', repository: file },
            new DirectoryFiles(root, name),
          );
          const index = await reader.index();
          if (!index || index.manifests.length === 0) return { name, written: false };
          await archiveLayout(root, file, name);
          return { name, written: true };
        } catch (error) {
          return {
            name,
            written: false,
            error: isSwrSyncError(error) ? error : layoutError(name, 'cannot write the archive', error),
          };
        } finally {
          this.writers.delete(root ?? '');
          if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
        }
      }),
    );
  }

  /**
   * An interrupted run: every archive destination is left as it was (its staging directory removed), and reported
   * not written with `error`.
   */
  async abandon(error: SwrSyncError): Promise<ArchiveOutcome[]> {
    const names = [...this.staging.keys()].map((file) => new Reference('oci-archive', file).name);
    await this.discard();
    return names.map((name) => ({
      name,
      written: false,
      error: new SwrSyncError(error.code, `${name} was not written: ${error.message}`),
    }));
  }

  /** Removes staging directories of archives not finished (an aborted run leaves the target files untouched). */
  async discard(): Promise<void> {
    const staged = [...this.staging.values()];
    this.staging.clear();
    await Promise.all(
      staged.map(async (dir) => {
        const root = await dir.catch(() => undefined);
        if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
      }),
    );
  }

  private async layout(registry: string, repository: string): Promise<Layout> {
    if (!isLayoutRegistry(registry))
      throw new SwrSyncError('ERR_INVALID_REFERENCE', `${registry}/${repository} is not an OCI layout reference`);
    const transport: LayoutTransport = registry;
    const where = new Reference(transport, repository).name;
    const location = { registry, repository };
    if (transport === 'oci') {
      return {
        where,
        root: repository,
        reader: new LayoutReader(where, location, new DirectoryFiles(repository, where)),
        writer: () => this.writerFor(repository, where),
      };
    }
    if (this.options.archives === 'read') {
      let files = this.archiveFiles.get(repository);
      if (!files) {
        files = new ArchiveFiles(repository, where);
        this.archiveFiles.set(repository, files);
      }
      return {
        where,
        reader: new LayoutReader(where, location, files),
        writer: () => Promise.reject(layoutError(where, 'an oci-archive source is read-only')),
      };
    }
    // Reads before the first write (skip-unchanged, plan) find an empty layout and create nothing.
    const root = this.staging.has(repository) ? await this.stagingFor(repository, where) : undefined;
    return {
      where,
      ...(root !== undefined ? { root } : {}),
      reader: new LayoutReader(where, location, root !== undefined ? new DirectoryFiles(root, where) : NO_FILES),
      writer: async () => this.writerFor(await this.stagingFor(repository, where), where),
    };
  }

  private async writerFor(root: string, where: string): Promise<LayoutWriter> {
    let writer = this.writers.get(root);
    if (!writer) {
      writer = new LayoutWriter(root, where);
      this.writers.set(root, writer);
    }
    await writer.ensure();
    return writer;
  }

  private stagingFor(file: string, where: string): Promise<string> {
    let dir = this.staging.get(file);
    if (!dir) {
      dir = (async () => {
        const existing = await stat(file).catch(() => undefined);
        if (existing?.isDirectory())
          throw layoutError(where, 'is a directory: oci-archive: names a tar file (oci: names a layout directory)');
        try {
          await mkdir(dirname(file), { recursive: true });
          // Staging directories and half-written archives of crashed runs of this host go first.
          await removeStaleTemporaries(dirname(file), `.${basename(file)}.swr-sync-`);
          return await mkdtemp(join(dirname(file), stagingPrefix(basename(file))));
        } catch (error) {
          throw layoutError(where, 'cannot create a staging directory beside the archive', error);
        }
      })();
      this.staging.set(file, dir);
      dir.catch(() => this.staging.get(file) === dir && this.staging.delete(file));
    }
    return dir;
  }
}

/** The tar of a layout directory: `oci-layout`, `index.json`, then blobs/ in name order; replaces `file` atomically. */
async function archiveLayout(root: string, file: string, where: string): Promise<void> {
  const sources: TarSource[] = [];
  for (const name of [LAYOUT_MARKER_FILE, INDEX_FILE]) {
    sources.push({ name, type: 'file', path: join(root, name), size: (await stat(join(root, name))).size });
  }
  sources.push({ name: BLOBS_DIR, type: 'directory' });
  for (const algorithm of (await readdir(join(root, BLOBS_DIR))).sort()) {
    sources.push({ name: `${BLOBS_DIR}/${algorithm}`, type: 'directory' });
    for (const encoded of (await readdir(join(root, BLOBS_DIR, algorithm))).sort()) {
      const path = join(root, BLOBS_DIR, algorithm, encoded);
      sources.push({ name: `${BLOBS_DIR}/${algorithm}/${encoded}`, type: 'file', path, size: (await stat(path)).size });
    }
  }
  const temp = join(dirname(file), archiveTemporaryName(basename(file)));
  try {
    await writeTar(temp, sources);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw layoutError(where, 'cannot write the archive', error);
  }
}
