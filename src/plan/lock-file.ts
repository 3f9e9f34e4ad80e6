import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssue } from '../config/zod-issues.js';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/**
 * `swr-mirror.lock.json` (docs/file-formats.md): destination reference → what was copied there. Written by `sync --lock`,
 * read by the planner (what changed) and by the constructs (pin images by digest). Serialised with sorted keys,
 * two-space indent and a trailing newline so a pull request diff shows exactly which digests moved.
 */
export interface LockEntry {
  /** The source reference copied, `repository:tag`. */
  readonly source: string;
  /** Digest of the source manifest (or index) at copy time. */
  readonly sourceDigest: string;
  /** Digest stored at the destination; differs from `sourceDigest` when a platform filter rewrote an index. */
  readonly digest: string;
  /** Platforms copied, `os/arch[/variant]`; empty when not filtered. */
  readonly platforms: readonly string[];
}

/** The whole lock file. */
export interface LockFile {
  /** Format version. */
  readonly version: 1;
  /** Destination reference (`registry/repository:tag`) → what was copied there. */
  readonly images: Readonly<Record<string, LockEntry>>;
}

const Digest = z.string().regex(/^[a-z0-9]+:[a-f0-9]{32,}$/, 'a digest such as sha256:<hex>');
export const LockFileSchema = z.strictObject({
  version: z.literal(1),
  images: z.record(
    z.string().min(1),
    z.strictObject({
      source: z.string().min(1),
      sourceDigest: Digest,
      digest: Digest,
      platforms: z.array(z.string()),
    }),
  ),
});

export function emptyLock(): LockFile {
  return { version: 1, images: {} };
}

/** The lock file at `file`; undefined when it does not exist yet (the first sync creates it). */
export async function readLockFile(file: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read the lock file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      file,
      code: 'ERR_CONFIG_READ',
    });
  }
  return parseLockFile(text, file);
}

export function parseLockFile(text: string, file: string): LockFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`not valid JSON (${(error as Error).message})`, { file });
  }
  const parsed = LockFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`not a swr-mirror lock file: ${describeIssue(issue, { path: [] }).join('; ')}`, {
      file,
      key: issue.path.join('.') || '(root)',
    });
  }
  return parsed.data;
}

/** Sorted keys at every level, two-space indent, trailing newline: byte-identical for identical content. */
export function serializeLockFile(lock: LockFile): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Writes atomically (atomic-file.ts), so a reader, or a crash, never sees half a lock file. */
export async function writeLockFile(file: string, lock: LockFile): Promise<void> {
  try {
    await writeFileAtomic(file, serializeLockFile(lock));
  } catch (error) {
    throw new ConfigError(
      `cannot write the lock file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { file, code: 'ERR_CONFIG_READ' },
    );
  }
}

/** What a run reports per image that the lock records: the fields of the engine's `ImageResult` it reads. */
export interface LockUpdate {
  readonly source: string;
  readonly destination: string;
  readonly sourceDigest?: string;
  readonly digest?: string;
  readonly platforms: readonly string[];
  readonly status: 'copied' | 'unchanged' | 'skipped' | 'failed';
}

/**
 * The lock after a run: entries of copied and unchanged images are set (an unchanged image keeps the platforms
 * already recorded when this run did not read them); failed images keep their old entry; entries `isStale` says
 * are no longer part of the job are dropped.
 */
export function updateLock(
  previous: LockFile | undefined,
  results: readonly LockUpdate[],
  isStale: (destination: string) => boolean,
): LockFile {
  const images: Record<string, LockEntry> = {};
  for (const [destination, entry] of Object.entries(previous?.images ?? {})) {
    if (!isStale(destination)) images[destination] = entry;
  }
  for (const result of results) {
    if (result.status === 'failed' || result.status === 'skipped' || !result.digest || !result.sourceDigest) continue;
    const before = images[result.destination];
    const platforms =
      result.platforms.length > 0 || !before || before.digest !== result.digest ? result.platforms : before.platforms;
    images[result.destination] = {
      source: result.source,
      sourceDigest: result.sourceDigest,
      digest: result.digest,
      platforms: [...platforms],
    };
  }
  return { version: 1, images };
}

/**
 * Merges the lock files of a job's shards. Shards own disjoint source repositories, so a destination appears in
 * one file only; the same destination with different content in two files means the shards disagree, which is an
 * error naming both files rather than a silent pick.
 */
export function mergeLockFiles(locks: ReadonlyArray<{ readonly file: string; readonly lock: LockFile }>): LockFile {
  const images: Record<string, LockEntry> = {};
  const owner: Record<string, string> = {};
  for (const { file, lock } of locks) {
    for (const [destination, entry] of Object.entries(lock.images)) {
      const before = images[destination];
      if (before) {
        // The same image recorded twice agrees whatever the platforms say: they follow from the digest, and an entry
        // written before platforms were read for images already in place has none.
        const differs = (['digest', 'sourceDigest', 'source'] as const).find((field) => before[field] !== entry[field]);
        if (differs) {
          throw new ConfigError(
            `"${destination}" has ${differs} ${entry[differs]} here but ${before[differs]} in ${owner[destination]}: the shards disagree`,
            { file },
          );
        }
        if (before.platforms.length > 0) continue;
      }
      images[destination] = entry;
      owner[destination] = file;
    }
  }
  return { version: 1, images };
}
