/**
 * The two files shared with swr-sync (DESIGN §5):
 * - `swr-mirror.json`, written at synth beside each stack's `cdk.tf.json`;
 * - `swr-mirror.lock.json`, written by `swr-sync sync --lock`, read here to pin images by digest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const MIRROR_SPEC_FILE = 'swr-mirror.json';
export const LOCK_FILE = 'swr-mirror.lock.json';

export interface MirrorSpecImage {
  /** Construct path within the stack: stable across synths, unique per stack. */
  readonly id: string;
  /** Repository reference without tag. */
  readonly source: string;
  /** Repository reference without tag. */
  readonly destination: string;
  /** @default - all tags */
  readonly tags?: string[];
  /** @default - every platform */
  readonly platforms?: string[];
}

export interface MirrorSpec {
  readonly version: 1;
  readonly stack: string;
  readonly images: MirrorSpecImage[];
}

export interface LockEntry {
  readonly source: string;
  readonly sourceDigest: string;
  /** Digest stored at the destination (differs from `sourceDigest` when a platform filter rewrote the index). */
  readonly digest: string;
  readonly platforms: string[];
}

export interface LockFile {
  readonly version: 1;
  /** Keyed by destination reference `registry/path:tag`. */
  readonly images: Record<string, LockEntry>;
}

const DIGEST = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a sha256 digest');

const LOCK_SCHEMA = z.object({
  version: z.literal(1),
  images: z.record(
    z.string(),
    z.looseObject({
      source: z.string(),
      sourceDigest: DIGEST,
      digest: DIGEST,
      platforms: z.array(z.string()).default([]),
    }),
  ),
});

/** The lock file at `path`, or undefined when there is none yet (before the first sync). */
export function readLockFile(path: string): LockFile | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = LOCK_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: not a swr-mirror lock file: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data as LockFile;
}

/** Two-space indent and a trailing newline, fields in the DESIGN §5 order, so diffs stay small. */
export function serializeMirrorSpec(spec: MirrorSpec): string {
  const images = spec.images.map((i) => ({
    id: i.id,
    source: i.source,
    destination: i.destination,
    ...(i.tags ? { tags: i.tags } : {}),
    ...(i.platforms ? { platforms: i.platforms } : {}),
  }));
  return `${JSON.stringify({ version: spec.version, stack: spec.stack, images }, null, 2)}\n`;
}
