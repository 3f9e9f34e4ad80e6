import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ContentMismatchError, describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { digestAlgorithm, Digester, digestOf, digestProblem } from '../oci/digest.js';
import {
  blobPath,
  BLOBS_DIR,
  checkLayoutMarker,
  emptyLayoutIndex,
  findManifest,
  INDEX_FILE,
  INDEX_MAX_BYTES,
  LAYOUT_MARKER,
  LAYOUT_MARKER_FILE,
  parseLayoutIndex,
  refNames,
  serializeLayoutIndex,
  withRef,
  type LayoutIndex,
} from '../oci/layout-index.js';
import { MANIFEST_MAX_BYTES, type Descriptor } from '../oci/manifest.js';
import { isLayoutRegistry, parseReference, Reference, type LayoutTransport } from '../oci/reference.js';
import type { ImageResult } from '../results/image-result.js';
import type { BlobBody, ImageStore } from './image-store.js';
import type { Access, FetchedManifest, ManifestHead } from './registry-client.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { withFileLock } from './file-lock.js';
import { indexTar, openTarEntry, writeTar, type TarEntry, type TarSource } from './tar.js';

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

const MARKER_MAX_BYTES = 64 * 1024;
/** Held while index.json is read, modified and replaced (file-lock.ts); hidden, like the temporary files. */
const INDEX_LOCK_FILE = '.swr-sync-index.lock';

function layoutError(where: string, message: string, cause?: unknown): SwrSyncError {
  return new SwrSyncError('ERR_LAYOUT', `${where}: ${message}${cause === undefined || isSwrSyncError(cause) ? '' : ` (${describeError(cause)})`}`, cause === undefined ? {} : { cause });
}

function isDigest(ref: string): boolean {
  return ref.includes(':') && digestProblem(ref) === undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The files of a layout: a directory, or entries of a tar

interface LayoutFiles {
  /** The whole file, or undefined when it is absent; larger than `limit` is an error. */
  read(relative: string, limit: number): Promise<Buffer | undefined>;
  size(relative: string): Promise<number | undefined>;
  /** The file's bytes from `offset` on; `size` is the whole file's. */
  open(relative: string, offset?: number): Promise<{ body: Readable; size: number } | undefined>;
}

class DirectoryFiles implements LayoutFiles {
  constructor(readonly root: string, private readonly where: string) {}

  async read(relative: string, limit: number): Promise<Buffer | undefined> {
    const handle = await this.openHandle(relative);
    if (!handle) return undefined;
    try {
      const { size } = await handle.stat();
      if (size > limit) throw layoutError(this.where, `${relative} is ${size} bytes; at most ${limit} are accepted`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async size(relative: string): Promise<number | undefined> {
    try {
      const info = await stat(join(this.root, relative));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      throw layoutError(this.where, `cannot read ${relative}`, error);
    }
  }

  async open(relative: string, offset = 0): Promise<{ body: Readable; size: number } | undefined> {
    const handle = await this.openHandle(relative);
    if (!handle) return undefined;
    const { size } = await handle.stat();
    return { body: handle.createReadStream({ autoClose: true, start: Math.min(offset, size) }), size };
  }

  private async openHandle(relative: string): Promise<FileHandle | undefined> {
    try {
      return await open(join(this.root, relative), 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      throw layoutError(this.where, `cannot read ${relative}`, error);
    }
  }
}

class ArchiveFiles implements LayoutFiles {
  private entries: Promise<Map<string, TarEntry>> | undefined;

  constructor(private readonly file: string, private readonly where: string) {}

  async read(relative: string, limit: number): Promise<Buffer | undefined> {
    const entry = await this.entry(relative);
    if (!entry) return undefined;
    if (entry.size > limit) throw layoutError(this.where, `${relative} is ${entry.size} bytes; at most ${limit} are accepted`);
    const handle = await open(this.file, 'r');
    try {
      const bytes = Buffer.alloc(entry.size);
      let done = 0;
      while (done < entry.size) {
        const { bytesRead } = await handle.read(bytes, done, entry.size - done, entry.offset + done);
        if (bytesRead === 0) throw layoutError(this.where, `${relative} is cut short in the archive`);
        done += bytesRead;
      }
      return bytes;
    } finally {
      await handle.close();
    }
  }

  async size(relative: string): Promise<number | undefined> {
    return (await this.entry(relative))?.size;
  }

  async open(relative: string, offset = 0): Promise<{ body: Readable; size: number } | undefined> {
    const entry = await this.entry(relative);
    if (!entry) return undefined;
    const skip = Math.min(offset, entry.size);
    return { body: openTarEntry(this.file, { ...entry, offset: entry.offset + skip, size: entry.size - skip }), size: entry.size };
  }

  private async entry(relative: string): Promise<TarEntry | undefined> {
    if (!this.entries) {
      this.entries = this.load();
      this.entries.catch(() => (this.entries = undefined));
    }
    const entry = (await this.entries).get(relative);
    return entry?.type === 'file' ? entry : undefined;
  }

  private async load(): Promise<Map<string, TarEntry>> {
    let info;
    try {
      info = await stat(this.file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new SwrSyncError('ERR_NOT_FOUND', `${this.where} does not exist`, { registry: 'oci-archive', repository: this.file });
      throw layoutError(this.where, 'cannot read the archive', error);
    }
    if (info.isDirectory()) throw layoutError(this.where, 'is a directory: oci-archive: names a tar file (oci: names a layout directory)');
    return indexTar(this.file);
  }
}

/** An archive destination nothing was written to yet. */
const NO_FILES: LayoutFiles = {
  read: async () => undefined,
  size: async () => undefined,
  open: async () => undefined,
};

// ---------------------------------------------------------------------------------------------------------------
// Reading a layout

class LayoutReader {
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
    if (mediaType === undefined) mediaType = declaredMediaType(await this.files.read(blobPath(found.digest), MANIFEST_MAX_BYTES));
    return { digest: found.digest, mediaType, size: found.size };
  }

  async getManifest(ref: string): Promise<FetchedManifest> {
    const found = await this.resolve(ref);
    if (!found) {
      const index = await this.index();
      throw new SwrSyncError('ERR_NOT_FOUND', index
        ? `${this.where} has no image ${isDigest(ref) ? ref : `named "${ref}"`} (ref names: ${refNames(index).join(', ') || 'none'})`
        : `${this.where} is not an OCI image layout: ${INDEX_FILE} is missing${this.location.registry === 'oci' ? ' (a tar of a layout is read with oci-archive:)' : ''}`, this.location);
    }
    const path = blobPath(found.digest);
    const bytes = await this.files.read(path, MANIFEST_MAX_BYTES);
    if (!bytes) throw new SwrSyncError('ERR_NOT_FOUND', `${this.where}: manifest ${found.digest} is listed but ${path} is missing`, this.location);
    const digest = digestOf(bytes, digestAlgorithm(found.digest));
    if (digest !== found.digest) {
      throw new ContentMismatchError('ERR_DIGEST_MISMATCH', `${this.where}: manifest ${path}`, found.digest, digest, this.location);
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
    if (!opened) throw new SwrSyncError('ERR_NOT_FOUND', `${this.where}: blob ${digest} is missing (${blobPath(digest)})`, this.location);
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

// ---------------------------------------------------------------------------------------------------------------
// Writing a layout directory

class LayoutWriter {
  private ready: Promise<void> | undefined;
  /** index.json updates of this process, one at a time (read, modify, replace). */
  private indexTurn: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string, private readonly where: string) {}

  /** Creates the layout (or checks the directory is one) once: `oci-layout` and `blobs/`. */
  ensure(): Promise<void> {
    if (!this.ready) {
      this.ready = this.prepare();
      this.ready.catch(() => (this.ready = undefined));
    }
    return this.ready;
  }

  private async prepare(): Promise<void> {
    let names: string[] | undefined;
    try {
      const info = await stat(this.root);
      if (!info.isDirectory()) throw layoutError(this.where, 'is a file, not a directory: oci: names a layout directory (oci-archive: names a tar file)');
      names = await readdir(this.root);
    } catch (error) {
      if (isSwrSyncError(error)) throw error;
      if (errorCode(error) !== 'ENOENT') throw layoutError(this.where, 'cannot read the layout directory', error);
    }
    const hasMarker = names?.includes(LAYOUT_MARKER_FILE) ?? false;
    // A typo must not scatter blobs into an unrelated directory (a home directory, a source tree).
    if (names && names.length > 0 && !hasMarker && !names.includes(INDEX_FILE)) {
      throw layoutError(this.where, `is a directory that is neither empty nor an OCI image layout (no ${LAYOUT_MARKER_FILE} or ${INDEX_FILE}); refusing to write into it`);
    }
    try {
      await mkdir(join(this.root, BLOBS_DIR), { recursive: true });
      if (!hasMarker) await this.replaceFile(LAYOUT_MARKER_FILE, LAYOUT_MARKER);
    } catch (error) {
      throw layoutError(this.where, 'cannot create the layout', error);
    }
  }

  /** Streams a blob into place, checking its digest and size. */
  async putBlob(digest: string, size: number, body: Readable): Promise<void> {
    const target = join(this.root, blobPath(digest));
    const temp = this.tempPath('blob');
    // File system failures are the layout's; anything else came from the source stream and keeps its own error.
    const fs = async <T>(step: () => Promise<T>): Promise<T> => {
      try {
        return await step();
      } catch (error) {
        throw layoutError(this.where, `cannot write blob ${digest}`, error);
      }
    };
    let handle: FileHandle | undefined;
    try {
      handle = await fs(() => open(temp, 'wx', 0o644));
      const digester = new Digester(digestAlgorithm(digest));
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        digester.update(bytes);
        if (digester.bytes > size) break;
        await fs(() => writeAll(handle!, bytes));
      }
      if (digester.bytes !== size) {
        throw new ContentMismatchError('ERR_SIZE_MISMATCH', `blob ${digest} for ${this.where}`, size, digester.bytes > size ? `more than ${size} bytes` : digester.bytes, { retryable: true });
      }
      const found = digester.digest();
      if (found !== digest) throw new ContentMismatchError('ERR_DIGEST_MISMATCH', `blob for ${this.where}`, digest, found, { retryable: true });
      await fs(async () => {
        await handle!.sync();
        await handle!.close();
        handle = undefined;
        await mkdir(dirname(target), { recursive: true });
        await rename(temp, target);
      });
    } catch (error) {
      body.destroy();
      await handle?.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** Writes bytes already in memory (a manifest) as a blob, unless the layout has it. */
  async putBytes(digest: string, bytes: Buffer): Promise<void> {
    const target = join(this.root, blobPath(digest));
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isFile() && existing.size === bytes.length) return;
    try {
      await mkdir(dirname(target), { recursive: true });
      await this.replaceFile(blobPath(digest), bytes);
    } catch (error) {
      throw layoutError(this.where, `cannot write blob ${digest}`, error);
    }
  }

  /** Gives this layout a blob another layout on this machine holds: a hard link, else a copy. False when it has none. */
  async linkFrom(otherRoot: string, digest: string): Promise<boolean> {
    const relative = blobPath(digest);
    const source = join(otherRoot, relative);
    const target = join(this.root, relative);
    try {
      await mkdir(dirname(target), { recursive: true });
      await link(source, target);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return true;
      if (code === 'ENOENT') return false;
    }
    // Another file system, or links not allowed: copy through a temporary file so a failure leaves nothing.
    const temp = this.tempPath('blob');
    try {
      await copyFile(source, temp);
      await rename(temp, target);
      return true;
    } catch {
      await unlink(temp).catch(() => undefined);
      return false;
    }
  }

  /** Records `descriptor` under the ref name in index.json: read, modify, replace atomically. */
  setRef(ref: string, descriptor: Descriptor): Promise<void> {
    const update = async (): Promise<void> => {
      // Other processes may write this layout too (shards on a shared volume): the read and the replace happen
      // under a lock file, or each would replace index.json with its own additions only.
      try {
        await withFileLock(join(this.root, INDEX_LOCK_FILE), async () => {
          const reader = new LayoutReader(this.where, { registry: '', repository: this.root }, new DirectoryFiles(this.root, this.where));
          const next = withRef((await reader.index()) ?? emptyLayoutIndex(), descriptor, ref);
          await this.replaceFile(INDEX_FILE, serializeLayoutIndex(next));
        });
      } catch (error) {
        throw isSwrSyncError(error) ? error : layoutError(this.where, `cannot write ${INDEX_FILE}`, error);
      }
    };
    const turn = this.indexTurn.then(update, update);
    this.indexTurn = turn.catch(() => undefined);
    return turn;
  }

  /** Temporary file, fsync, rename: readers see the old file or the new one, never a part. */
  private async replaceFile(relative: string, bytes: Buffer): Promise<void> {
    const temp = this.tempPath(basename(relative));
    try {
      const handle = await open(temp, 'wx', 0o644);
      try {
        await writeAll(handle, bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, join(this.root, relative));
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** In the layout's root, so a rename into blobs/ stays on one file system; hidden, and never under blobs/. */
  private tempPath(what: string): string {
    return join(this.root, `.swr-sync-${what}-${randomBytes(6).toString('hex')}.tmp`);
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
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

  async headManifest(registry: string, repository: string, ref: string, _access?: Access): Promise<ManifestHead | undefined> {
    return (await this.layout(registry, repository)).reader.headManifest(ref);
  }

  async getManifest(registry: string, repository: string, ref: string, _access?: Access): Promise<FetchedManifest> {
    return (await this.layout(registry, repository)).reader.getManifest(ref);
  }

  /** Writes the manifest as a blob; a tag (ref name) is then recorded in index.json, a digest is not. */
  async putManifest(registry: string, repository: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const layout = await this.layout(registry, repository);
    const digest = digestOf(bytes, isDigest(ref) ? digestAlgorithm(ref) : 'sha256');
    if (isDigest(ref) && ref !== digest) {
      throw new ContentMismatchError('ERR_DIGEST_MISMATCH', `manifest for ${layout.where}`, ref, digest, { registry, repository });
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
  async mountBlob(registry: string, repository: string, digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
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

  async uploadBlob(registry: string, repository: string, digest: string, size: number, open: () => Promise<Readable>, _location?: string): Promise<void> {
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
    return Promise.all(staged.map(async ([file, dir]) => {
      const name = new Reference('oci-archive', file).name;
      let root: string | undefined;
      try {
        root = await dir;
        const reader = new LayoutReader(name, { registry: 'oci-archive', repository: file }, new DirectoryFiles(root, name));
        const index = await reader.index();
        if (!index || index.manifests.length === 0) return { name, written: false };
        await archiveLayout(root, file, name);
        return { name, written: true };
      } catch (error) {
        return { name, written: false, error: isSwrSyncError(error) ? error : layoutError(name, 'cannot write the archive', error) };
      } finally {
        this.writers.delete(root ?? '');
        if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
      }
    }));
  }

  /**
   * An interrupted run: every archive destination is left as it was (its staging directory removed), and reported
   * not written with `error`.
   */
  async abandon(error: SwrSyncError): Promise<ArchiveOutcome[]> {
    const names = [...this.staging.keys()].map((file) => new Reference('oci-archive', file).name);
    await this.discard();
    return names.map((name) => ({ name, written: false, error: new SwrSyncError(error.code, `${name} was not written: ${error.message}`) }));
  }

  /** Removes staging directories of archives not finished (an aborted run leaves the target files untouched). */
  async discard(): Promise<void> {
    const staged = [...this.staging.values()];
    this.staging.clear();
    await Promise.all(staged.map(async (dir) => {
      const root = await dir.catch(() => undefined);
      if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
    }));
  }

  private async layout(registry: string, repository: string): Promise<Layout> {
    if (!isLayoutRegistry(registry)) throw new SwrSyncError('ERR_INVALID_REFERENCE', `${registry}/${repository} is not an OCI layout reference`);
    const transport: LayoutTransport = registry;
    const where = new Reference(transport, repository).name;
    const location = { registry, repository };
    if (transport === 'oci') {
      return { where, root: repository, reader: new LayoutReader(where, location, new DirectoryFiles(repository, where)), writer: () => this.writerFor(repository, where) };
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
        if (existing?.isDirectory()) throw layoutError(where, 'is a directory: oci-archive: names a tar file (oci: names a layout directory)');
        try {
          await mkdir(dirname(file), { recursive: true });
          return await mkdtemp(join(dirname(file), `.${basename(file)}.swr-sync-staging-`));
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
  const temp = join(dirname(file), `.${basename(file)}.swr-sync-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeTar(temp, sources);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw layoutError(where, 'cannot write the archive', error);
  }
}

/**
 * Image results after `finish()`: an image whose archive could not be written did not arrive, whatever the copy
 * into the staging layout reported.
 */
export function applyArchiveOutcomes(results: readonly ImageResult[], outcomes: readonly ArchiveOutcome[]): ImageResult[] {
  const failed = new Map(outcomes.filter((o) => o.error).map((o) => [o.name, o.error!]));
  if (failed.size === 0) return [...results];
  return results.map((result) => {
    if (result.status === 'failed') return result;
    let name: string;
    try {
      name = parseReference(result.destination, { defaultTag: false }).name;
    } catch {
      return result;
    }
    const error = failed.get(name);
    return error ? { ...result, status: 'failed', error: { code: error.code, message: describeError(error) } } : result;
  });
}
