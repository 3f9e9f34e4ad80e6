import { constants } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { digestProblem } from '../oci/digest.js';
import { indexTar, openTarEntry, type TarEntry } from './tar.js';

/** Reading the files of an OCI image layout (image-spec image-layout.md): a directory, or the entries of a tar. */

/** An `ERR_LAYOUT` error naming the layout, with the system cause in one line. */
export function layoutError(where: string, message: string, cause?: unknown): SwrSyncError {
  return new SwrSyncError(
    'ERR_LAYOUT',
    `${where}: ${message}${cause === undefined || isSwrSyncError(cause) ? '' : ` (${describeError(cause)})`}`,
    cause === undefined ? {} : { cause },
  );
}

/** Whether a ref is a digest (`alg:encoded`) rather than a tag. */
export function isDigest(ref: string): boolean {
  return ref.includes(':') && digestProblem(ref) === undefined;
}

/** The `code` of a system error (`ENOENT`…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The files of a layout, relative to its root. */
export interface LayoutFiles {
  /** The whole file, or undefined when it is absent; larger than `limit` is an error. */
  read(relative: string, limit: number): Promise<Buffer | undefined>;
  size(relative: string): Promise<number | undefined>;
  /** The file's bytes from `offset` on; `size` is the whole file's. */
  open(relative: string, offset?: number): Promise<{ body: Readable; size: number } | undefined>;
}

/**
 * A layout directory's files, read only inside the layout: a file that is a symbolic link, or under a directory that
 * leads out of the layout, is refused (`ERR_LAYOUT`) before a byte of it is read, so a layout someone else prepared
 * cannot make the copy read (and send to a registry) a file elsewhere (docs/security.md).
 */
export class DirectoryFiles implements LayoutFiles {
  private rootReal: Promise<string> | undefined;

  constructor(
    readonly root: string,
    private readonly where: string,
  ) {}

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
      const info = await lstat(join(this.root, relative));
      if (info.isSymbolicLink()) throw this.symlink(relative);
      await this.contained(relative);
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      throw isSwrSyncError(error) ? error : layoutError(this.where, `cannot read ${relative}`, error);
    }
  }

  async open(relative: string, offset = 0): Promise<{ body: Readable; size: number } | undefined> {
    const handle = await this.openHandle(relative);
    if (!handle) return undefined;
    const { size } = await handle.stat();
    return { body: handle.createReadStream({ autoClose: true, start: Math.min(offset, size) }), size };
  }

  private async openHandle(relative: string): Promise<FileHandle | undefined> {
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: the file itself must not be a symbolic link (ELOOP).
      handle = await open(join(this.root, relative), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      if (errorCode(error) === 'ELOOP') throw this.symlink(relative);
      throw layoutError(this.where, `cannot read ${relative}`, error);
    }
    try {
      await this.contained(relative);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The directories above `relative` are the layout's own (none is a symbolic link leading elsewhere). */
  private async contained(relative: string): Promise<void> {
    this.rootReal ??= realpath(this.root);
    const parent = dirname(relative);
    if (parent === '.') return;
    const [root, actual] = await Promise.all([this.rootReal, realpath(join(this.root, parent))]);
    if (actual !== join(root, parent)) throw this.symlink(parent);
  }

  private symlink(relative: string): SwrSyncError {
    return layoutError(this.where, `${relative} is a symbolic link; the files of a layout are read only inside it`);
  }
}

/** The entries of an `oci-archive:` tar, read in place through its index (tar.ts). */
export class ArchiveFiles implements LayoutFiles {
  private entries: Promise<Map<string, TarEntry>> | undefined;

  constructor(
    private readonly file: string,
    private readonly where: string,
  ) {}

  async read(relative: string, limit: number): Promise<Buffer | undefined> {
    const entry = await this.entry(relative);
    if (!entry) return undefined;
    if (entry.size > limit)
      throw layoutError(this.where, `${relative} is ${entry.size} bytes; at most ${limit} are accepted`);
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
    return {
      body: openTarEntry(this.file, { ...entry, offset: entry.offset + skip, size: entry.size - skip }),
      size: entry.size,
    };
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
      if (errorCode(error) === 'ENOENT')
        throw new SwrSyncError('ERR_NOT_FOUND', `${this.where} does not exist`, {
          registry: 'oci-archive',
          repository: this.file,
        });
      throw layoutError(this.where, 'cannot read the archive', error);
    }
    if (info.isDirectory())
      throw layoutError(this.where, 'is a directory: oci-archive: names a tar file (oci: names a layout directory)');
    return indexTar(this.file);
  }
}

/** An archive destination nothing was written to yet. */
export const NO_FILES: LayoutFiles = {
  read: async () => undefined,
  size: async () => undefined,
  open: async () => undefined,
};

/**
 * Why the layout a copy would read from cannot be one, checked on the local disk before anything is sent: `oci:`
 * names a directory holding `index.json`, `oci-archive:` a file. Undefined when it may be read.
 */
export async function layoutSourceProblem(transport: 'oci' | 'oci-archive', path: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR')
      return `no such ${transport === 'oci' ? 'directory' : 'file'}: ${path}`;
    return `cannot read ${path} (${errorCode(error) ?? 'error'})`;
  }
  if (transport === 'oci-archive') {
    return info.isFile()
      ? undefined
      : `${path} is not a file: oci-archive: names a tar file (oci: names a layout directory)`;
  }
  if (!info.isDirectory())
    return `${path} is not a directory: oci: names a layout directory (a tar of a layout is read with oci-archive:)`;
  const index = await stat(join(path, 'index.json')).catch(() => undefined);
  return index?.isFile() ? undefined : `${path} is not an OCI image layout: index.json is missing`;
}
