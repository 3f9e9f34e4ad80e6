import { copyFile, link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ContentMismatchError, isSwrSyncError } from '../errors.js';
import { digestAlgorithm, Digester } from '../oci/digest.js';
import {
  blobPath,
  BLOBS_DIR,
  emptyLayoutIndex,
  INDEX_FILE,
  LAYOUT_MARKER,
  LAYOUT_MARKER_FILE,
  serializeLayoutIndex,
  withRef,
} from '../oci/layout-index.js';
import type { Descriptor } from '../oci/manifest.js';
import { withFileLock } from './file-lock.js';
import { removeStaleTemporaries, temporaryName } from './temporaries.js';
import { DirectoryFiles, errorCode, layoutError } from './layout-files.js';
import { LayoutReader } from './layout-reader.js';

/** Held while index.json is read, modified and replaced (file-lock.ts); hidden, like the temporary files. */
const INDEX_LOCK_FILE = '.swr-sync-index.lock';

/**
 * Writes one layout directory crash-safely: a blob is streamed to a temporary file in the root, checked, fsynced and
 * renamed into blobs/; index.json is replaced atomically under a file lock when a tag is set.
 */
export class LayoutWriter {
  private ready: Promise<void> | undefined;
  /** index.json updates of this process, one at a time (read, modify, replace). */
  private indexTurn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    private readonly where: string,
  ) {}

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
      if (!info.isDirectory())
        throw layoutError(
          this.where,
          'is a file, not a directory: oci: names a layout directory (oci-archive: names a tar file)',
        );
      names = await readdir(this.root);
    } catch (error) {
      if (isSwrSyncError(error)) throw error;
      if (errorCode(error) !== 'ENOENT') throw layoutError(this.where, 'cannot read the layout directory', error);
    }
    const hasMarker = names?.includes(LAYOUT_MARKER_FILE) ?? false;
    // A typo must not scatter blobs into an unrelated directory (a home directory, a source tree).
    if (names && names.length > 0 && !hasMarker && !names.includes(INDEX_FILE)) {
      throw layoutError(
        this.where,
        `is a directory that is neither empty nor an OCI image layout (no ${LAYOUT_MARKER_FILE} or ${INDEX_FILE}); refusing to write into it`,
      );
    }
    // What a crashed run of this host left (a SIGKILL mid-blob): removed before this run adds its own.
    if (names?.some((name) => name.startsWith('.swr-sync-'))) await removeStaleTemporaries(this.root, '.swr-sync-');
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
        throw new ContentMismatchError(
          'ERR_SIZE_MISMATCH',
          `blob ${digest} for ${this.where}`,
          size,
          digester.bytes > size ? `more than ${size} bytes` : digester.bytes,
          { retryable: true },
        );
      }
      const found = digester.digest();
      if (found !== digest)
        throw new ContentMismatchError('ERR_DIGEST_MISMATCH', `blob for ${this.where}`, digest, found, {
          retryable: true,
        });
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
          const reader = new LayoutReader(
            this.where,
            { registry: '', repository: this.root },
            new DirectoryFiles(this.root, this.where),
          );
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
    return join(this.root, temporaryName(what));
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
