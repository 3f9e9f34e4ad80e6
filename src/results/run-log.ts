import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { GenerateFailure } from '../plan/image-task.js';
import { SwrSyncError } from '../errors.js';
import type { ImageResult } from '../engine/image-result.js';
import { printable } from './escape.js';

/**
 * The `--log` file: one line per image (and per rule that could not be resolved), appended as results arrive, so
 * a long migration leaves a record even when interrupted. Messages carry no secrets by construction (errors
 * never include credentials).
 */
export class RunLog {
  private queue: Promise<void> = Promise.resolve();
  private pending = '';
  private handle: Promise<FileHandle> | undefined;
  constructor(readonly file: string) {}

  /** Opens the file before the run starts, so a log that cannot be written stops the run before any copy. */
  async ready(): Promise<void> {
    this.handle ??= this.openFile();
    await this.handle;
  }

  private openFile(): Promise<FileHandle> {
    // O_NOFOLLOW: a symbolic link planted at the log's path (a shared CI workspace) is refused, so the log never
    // appends to a file elsewhere (docs/security.md).
    const opened = open(
      this.file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o644,
    ).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        code === 'ELOOP'
          ? `--log ${this.file} is a symbolic link; the log is written only to a regular file at that path`
          : `--log ${this.file} cannot be written (${code ?? String(error)})`,
        { cause: error },
      );
    });
    opened.catch(() => undefined);
    return opened;
  }

  start(what: string): void {
    this.write(`${new Date().toISOString()} start ${what}`);
  }

  image(r: ImageResult): void {
    const parts = [new Date().toISOString(), r.status, `${r.source} -> ${r.destination}`];
    if (r.digest) parts.push(r.digest);
    parts.push(`transferred=${r.bytesTransferred}`, `skipped=${r.bytesSkipped}`, `duration_ms=${r.durationMs}`);
    if (r.platforms.length) parts.push(`platforms=${r.platforms.join(',')}`);
    if (r.error) parts.push(`error=${r.error.code}: ${r.error.message}`);
    if (r.status === 'skipped' && r.note) parts.push(`reason=${r.note}`);
    this.write(parts.join(' '));
  }

  generateFailure(f: GenerateFailure): void {
    this.write(
      `${new Date().toISOString()} generate-failed ${f.source} (${f.rule.file}: "${f.rule.key}") error=${f.error.code}: ${f.error.message}`,
    );
  }

  line(text: string): void {
    this.write(`${new Date().toISOString()} ${text}`);
  }

  /**
   * Lines that arrive while a write is in flight go out together in the next one: one open file and one write
   * per burst, not an open/write/close per line (that was 5% of a 100-image sync's CPU).
   */
  private write(line: string): void {
    const first = this.pending === '';
    this.pending += `${printable(line)}\n`;
    if (!first) return;
    this.queue = this.queue.then(async () => {
      const text = this.pending;
      this.pending = '';
      this.handle ??= this.openFile();
      await (await this.handle).write(text);
    });
  }

  /** Resolves when every line is on disk and the file is closed; rejects if the file could not be written. */
  async flush(): Promise<void> {
    try {
      await this.queue;
    } finally {
      const handle = this.handle;
      this.handle = undefined;
      if (handle) await (await handle.catch(() => undefined))?.close();
    }
  }
}
