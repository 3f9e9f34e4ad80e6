import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * An advisory lock between processes that update one file by read, modify, replace (an OCI layout's index.json
 * written by several swr-sync processes, e.g. the shards of one job on a shared volume): a lock file created with
 * O_EXCL, which is atomic on local file systems and NFSv3+. Without it, two processes that read the same
 * index.json each replace it with their own additions, and one process's tags are lost.
 *
 * The owner writes `pid host` into the lock file. A lock whose owner is a dead process on this host (a
 * SIGKILLed run) is broken at once; one from another host is broken when older than `staleMs`, since a holder
 * keeps it for milliseconds.
 */
export interface FileLockOptions {
  /** Give up waiting after this long. @default 60 s */
  readonly timeoutMs?: number;
  /** A lock file older than this is taken as left by a crash. @default 30 s */
  readonly staleMs?: number;
  /** Sleep between attempts while another process holds the lock. @default 15 ms */
  readonly pollMs?: number;
}

export class FileLockTimeoutError extends Error {
  readonly code = 'ERR_LOCK_TIMEOUT';
  constructor(readonly lockFile: string, readonly owner: string, waitedMs: number) {
    super(`${lockFile} is held by ${owner || 'another process'} (waited ${Math.round(waitedMs / 1000)} s); remove the file if no such process is running`);
  }
}

const HOST = hostname();

export async function withFileLock<T>(lockFile: string, work: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 15;
  const started = Date.now();
  for (;;) {
    const acquired = await tryCreate(lockFile);
    if (acquired) break;
    const owner = await inspect(lockFile);
    if (owner === undefined) continue; // released between our attempt and the look: try again at once
    if (isStale(owner, staleMs)) {
      await breakStale(lockFile, owner);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new FileLockTimeoutError(lockFile, owner.text, waited);
    await new Promise((resolve) => setTimeout(resolve, pollMs / 2 + Math.random() * pollMs));
  }
  try {
    return await work();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

async function tryCreate(lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'wx', 0o644);
    try {
      await handle.writeFile(`${process.pid} ${HOST}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

interface Owner {
  /** The lock file's inode when it was looked at: breaking it must not remove a newer lock. */
  readonly ino: number;
  readonly text: string;
  readonly pid: number | undefined;
  readonly host: string | undefined;
  readonly ageMs: number;
}

async function inspect(lockFile: string): Promise<Owner | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    const [pid, host] = text.trim().split(/\s+/);
    const parsed = Number(pid);
    return {
      ino: info.ino,
      text: text.trim() ? `pid ${pid} on ${host ?? 'an unknown host'}` : '',
      pid: Number.isInteger(parsed) && parsed > 0 ? parsed : undefined,
      host,
      ageMs: Date.now() - info.mtimeMs,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Moves the stale lock aside (rename is atomic) and checks it is the one that was judged stale: when two waiters
 * break it at once, the later one may move a lock the earlier one has just taken, and puts it back.
 */
async function breakStale(lockFile: string, owner: Owner): Promise<void> {
  const aside = `${lockFile}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((await stat(aside)).ino !== owner.ino) await link(aside, lockFile).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function isStale(owner: Owner, staleMs: number): boolean {
  if (owner.host === HOST && owner.pid !== undefined && owner.pid !== process.pid && !isAlive(owner.pid)) return true;
  // An empty file is a holder between its create and its write, unless it stays so.
  return owner.ageMs > staleMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
