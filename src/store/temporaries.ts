import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Names of the temporary files and staging directories a layout write leaves while it runs, and the removal of those
 * a crashed run (SIGKILL, power loss) left behind. Each name carries its owner, `p<pid>h<host>`, the way the file
 * lock records its holder (file-lock.ts): a later run removes an entry only when it is ours (`.swr-sync-` names),
 * made on this host, and its process is gone. A live writer, here or on another host sharing the volume, is never
 * touched.
 */

/** Eight hex digits of the host name: short, and the same for every process of this host. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const OWNER = `p${process.pid}h${HOST_TAG}`;
const OWNED = /-p(\d+)h([0-9a-f]{8})-/;
/** Names from before owners were recorded: removed once clearly abandoned. */
const LEGACY_AGE_MS = 24 * 60 * 60 * 1000;

/** `.swr-sync-<what>-<owner>-<random>.tmp` in a layout's root. */
export function temporaryName(what: string): string {
  return `.swr-sync-${what}-${OWNER}-${randomBytes(6).toString('hex')}.tmp`;
}

/** The mkdtemp prefix of an archive's staging directory beside it: `.<file>.swr-sync-staging-<owner>-`. */
export function stagingPrefix(archiveName: string): string {
  return `.${archiveName}.swr-sync-staging-${OWNER}-`;
}

/** `.<file>.swr-sync-<owner>-<random>.tmp`: the archive being written beside its target. */
export function archiveTemporaryName(archiveName: string): string {
  return `.${archiveName}.swr-sync-${OWNER}-${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Removes from `dir` the entries whose names start with `prefix` and were left by a process of this host that is no
 * longer running (or, for names without an owner, are older than a day). Returns the names removed. Never throws:
 * cleaning up is a courtesy, not a reason to fail a copy.
 */
export async function removeStaleTemporaries(dir: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(
      (name) => name.startsWith(prefix) && (name.endsWith('.tmp') || name.includes('.swr-sync-staging-')),
    );
  } catch {
    return [];
  }
  const removed: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const owner = OWNED.exec(name.slice(prefix.length - 1));
      let stale: boolean;
      if (owner) stale = owner[2] === HOST_TAG && Number(owner[1]) !== process.pid && !isAlive(Number(owner[1]));
      else
        stale = await stat(join(dir, name)).then(
          (info) => Date.now() - info.mtimeMs > LEGACY_AGE_MS,
          () => false,
        );
      if (!stale) return;
      try {
        await rm(join(dir, name), { recursive: true, force: true });
        removed.push(name);
      } catch {
        // Gone already, or not ours to remove after all (permissions): leave it.
      }
    }),
  );
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
