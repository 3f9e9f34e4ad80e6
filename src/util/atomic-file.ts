import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';

export interface AtomicWriteOptions {
  /** The file's exact mode, whatever the umask (e.g. 0600 for secrets). @default 0644 reduced by the umask */
  readonly mode?: number;
  /** Replace an existing file (rename(2)); `false` publishes with link(2), which fails with EEXIST if one exists. @default true */
  readonly replace?: boolean;
}

/**
 * Writes `text` through a temporary file beside `file`, fsynced, then renamed (or linked) into place: a reader, or
 * a crash, sees the old file or the new one, never a part, and a failed write leaves the old file as it was.
 * Errors are the file system's; callers say which file it was for.
 */
export async function writeFileAtomic(file: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', options.mode ?? 0o644);
    try {
      // The mode given to open() is reduced by the umask.
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.replace === false) await link(temporary, file);
    else await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
}
