import { unlinkSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTemporaries, temporaryName } from '../store/temporaries.js';

/**
 * A large blob's bytes kept on local disk as they are read from the source, so that an upload that has to start
 * over (distribution 2.8 loses the session of a cut PATCH) or resume further back than the in-memory history reaches
 * re-reads them from here instead of downloading them again (docs/transfers.md, "An upload that is cut").
 *
 * The spool is a cache, never a source of truth: what is read back goes through the same digest check as the bytes
 * from the network, and any failure to write or read it (ENOSPC, EACCES, a read-only or missing temp dir, a file
 * removed under us) drops it, and the copy goes on as it would without one. It holds at most the blob's size, and
 * its file is removed when the transfer ends (success or failure), at process exit, and, after a run that was
 * killed outright, by the next run that copies a blob between registries (`sweepStaleSpools`, temporaries.ts).
 */

/** The prefix of spool files in the temp dir: the project's temporary prefix, so stale ones are recognised. */
export const SPOOL_PREFIX = '.swr-sync-spool-';

/** Bytes read back from the file at a time. */
const READ_PIECE = 1024 * 1024;

/** Spool files of this process, removed synchronously at exit (a second Ctrl-C exits without unwinding). */
const live = new Set<string>();
let exitHook = false;
/** One sweep of stale spools per directory and process. */
const swept = new Map<string, Promise<void>>();

/** Where a spool goes and how much it may take. */
export interface BlobSpoolOptions {
  /** The most bytes the spool takes: the blob's size (a source sending more is the verifier's to refuse). */
  readonly limit: number;
  /** Where the file goes. @default os.tmpdir() (TMPDIR) */
  readonly directory?: string;
}

/** A blob's bytes `[0, end)` in a temporary file; see the module comment. */
export class BlobSpool {
  private handle: FileHandle | undefined;
  /** Bytes written (and so readable) from byte 0. */
  private written = 0;
  /** Bytes appended, written or queued. */
  private appended = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    /** The file's path. */
    readonly path: string,
    handle: FileHandle,
    private readonly limit: number,
  ) {
    this.handle = handle;
  }

  /**
   * A new, empty spool file in `directory`, after removing the spools a dead process of this host left there
   * (`sweepStaleSpools`). Undefined when the file cannot be created: the copy then goes on without it.
   */
  static async create(options: BlobSpoolOptions): Promise<BlobSpool | undefined> {
    const directory = options.directory ?? tmpdir();
    await sweepStaleSpools(directory);
    const path = join(directory, temporaryName('spool'));
    try {
      // `wx+` (read and write, created new): never follow or reuse what is already there (a shared /tmp);
      // 0600: the bytes are an image's content, not for other users of the machine.
      const handle = await open(path, 'wx+', 0o600);
      if (!exitHook) process.on('exit', removeLiveSpools);
      exitHook = true;
      live.add(path);
      return new BlobSpool(path, handle, options.limit);
    } catch {
      return undefined;
    }
  }

  /** Whether the spool still holds its bytes (it is dropped after a failure). */
  get usable(): boolean {
    return this.handle !== undefined;
  }

  /** The bytes appended so far (written or on their way): the blob's bytes `[0, end)`. */
  get end(): number {
    return this.handle ? this.appended : 0;
  }

  /**
   * Queues `chunk`, the blob's bytes from `end` on, for writing. Never fails: a write that fails, or bytes past the
   * limit, drop the spool. Wait for `settled()` before appending again to keep one write in flight.
   */
  append(chunk: Buffer): void {
    if (!this.handle) return;
    if (this.appended + chunk.length > this.limit) {
      this.drop();
      return;
    }
    const at = this.appended;
    this.appended += chunk.length;
    this.writing = this.writing.then(async () => {
      const handle = this.handle;
      if (!handle) return;
      try {
        for (let done = 0; done < chunk.length;) {
          const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, at + done);
          done += bytesWritten;
        }
        this.written = at + chunk.length;
      } catch {
        this.drop();
      }
    });
  }

  /** Resolves when the appends queued so far are written (or the spool was dropped); never rejects. */
  settled(): Promise<void> {
    return this.writing;
  }

  /**
   * The bytes from `offset` to what is written, read back in pieces. Throws when the file fails to read or ends
   * early; the caller then drops the spool and reads from the source.
   */
  async *read(offset: number): AsyncGenerator<Buffer> {
    await this.writing;
    for (let at = offset; at < this.written;) {
      const handle = this.handle;
      if (!handle) throw new Error(`spool ${this.path} was dropped`);
      const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, this.written - at));
      const { bytesRead } = await handle.read(piece, 0, piece.length, at);
      if (bytesRead === 0) throw new Error(`spool ${this.path} ended at byte ${at} of ${this.written}`);
      at += bytesRead;
      yield bytesRead === piece.length ? piece : piece.subarray(0, bytesRead);
    }
  }

  /** Closes and removes the file (after the writes under way); the spool holds nothing from then on. Never fails. */
  async discard(): Promise<void> {
    this.drop();
    await this.writing;
  }

  /** Stops using the file at once; it is closed and removed after the writes under way. */
  private drop(): void {
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    this.written = 0;
    this.appended = 0;
    const path = this.path;
    this.writing = this.writing.then(async () => {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true }).catch(() => undefined);
      live.delete(path);
    });
  }
}

/**
 * Removes the spools that processes of this host no longer running left in `directory` (a run killed outright), once
 * per directory and process; later calls share the first. Never fails.
 */
export function sweepStaleSpools(directory: string = tmpdir()): Promise<void> {
  let sweep = swept.get(directory);
  if (!sweep) {
    sweep = removeStaleTemporaries(directory, SPOOL_PREFIX).then(() => undefined);
    swept.set(directory, sweep);
  }
  return sweep;
}

function removeLiveSpools(): void {
  for (const path of live) {
    try {
      unlinkSync(path);
    } catch {
      // Gone already.
    }
  }
  live.clear();
}
