import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * An advisory lock between processes that update one file by read, modify, replace (an OCI layout's index.json
 * written by several swr-sync processes, e.g. the shards of one job on a shared volume): a lock file created with
 * O_EXCL, which is atomic on local file systems and NFSv3+. Without it, two processes that read the same
 * index.json each replace it with their own additions, and one process's tags are lost.
 *
 * The owner writes `pid host token` into the lock file, the token new for each acquisition. A lock whose owner is a
 * dead process on this host (a SIGKILLed run) is broken at once; one from another host is broken when older than
 * `staleMs`, since a holder keeps it for milliseconds. Breaking takes a second lock file (`<lock>.break`), so that
 * of several waiters that judged one lock stale only one removes it, and only if it still holds the same token: a
 * waiter that looked before the lock changed hands never removes its new holder's lock.
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
  constructor(
    readonly lockFile: string,
    readonly owner: string,
    waitedMs: number,
  ) {
    super(
      `${lockFile} is held by ${owner || 'another process'} (waited ${Math.round(waitedMs / 1000)} s); remove the file if no such process is running`,
    );
  }
}

const HOST = hostname();

export async function withFileLock<T>(
  lockFile: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 30_000;
  const pollMs = options.pollMs ?? 15;
  const started = Date.now();
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, pollMs / 2 + Math.random() * pollMs));
  let token: string;
  for (;;) {
    const acquired = await tryCreate(lockFile);
    if (acquired !== undefined) {
      token = acquired;
      break;
    }
    const owner = await inspect(lockFile);
    if (owner === undefined) continue; // released between our attempt and the look: try again at once
    if (isStale(owner, staleMs)) {
      if (!(await breakStale(lockFile, owner, staleMs))) await pause();
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new FileLockTimeoutError(lockFile, owner.text, waited);
    await pause();
  }
  try {
    return await work();
  } finally {
    await removeIfHeld(lockFile, token);
  }
}

/** Creates the lock file with O_EXCL; its content (`pid host token`) when this call took the lock. */
async function tryCreate(lockFile: string): Promise<string | undefined> {
  const content = `${process.pid} ${HOST} ${randomBytes(8).toString('hex')}`;
  try {
    const handle = await open(lockFile, 'wx', 0o644);
    try {
      await handle.writeFile(`${content}\n`);
    } finally {
      await handle.close();
    }
    return content;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
}

/** Removes the lock file if it is still the one `content` was written to (a lock broken as stale may have a new holder). */
async function removeIfHeld(lockFile: string, content: string): Promise<void> {
  const now = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (now?.trim() === content) await unlink(lockFile).catch(() => undefined);
}

interface Owner {
  /** The lock file's whole content: the identity of this acquisition (its token), compared before breaking it. */
  readonly content: string;
  /** For messages: `pid N on HOST`. */
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
      content: text.trim(),
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

/** A breaker lock left by a process that died while breaking (which takes milliseconds) is itself stale after this. */
const BREAKER_STALE_MS = 5_000;

/**
 * Removes the stale lock `owner` was read from, unless it has changed hands since. Only the waiter holding
 * `<lock>.break` breaks; false when another waiter is breaking it now.
 */
async function breakStale(lockFile: string, owner: Owner, staleMs: number): Promise<boolean> {
  const breaker = `${lockFile}.break`;
  const taken = await tryCreate(breaker);
  if (taken === undefined) {
    const other = await inspect(breaker);
    if (other && isStale(other, Math.min(staleMs, BREAKER_STALE_MS))) await removeIfHeld(breaker, other.content);
    return false;
  }
  try {
    const now = await inspect(lockFile);
    if (now?.content === owner.content) await unlink(lockFile).catch(() => undefined);
    return true;
  } finally {
    await removeIfHeld(breaker, taken);
  }
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
