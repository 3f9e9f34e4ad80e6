/**
 * The two files shared with swr-sync:
 * - `swr-mirror.json`, written at synth beside each stack's `cdk.tf.json`;
 * - `swr-mirror.lock.json`, written by `swr-sync sync --lock`, read here to pin images by digest.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseLockFile, type LockFile } from '../src/plan/lock-file.js';

/** The mirror spec's file name, beside each stack's `cdk.tf.json`. */
export const MIRROR_SPEC_FILE = 'swr-mirror.json';
/** The lock file's default name. */
export const LOCK_FILE = 'swr-mirror.lock.json';

/** One image of `swr-mirror.json`. */
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
  /** Copy signatures, attestations and SBOMs too. @default false */
  readonly referrers?: boolean;
}

/** Limits for one registry (see `MirrorSetProps.registryLimits`). */
export interface RegistryLimit {
  /** Requests per second. @default - swr-sync's `--rate` */
  readonly rate?: number;
  /** Bytes per second: a number, or a string with a unit such as '20M' or '1.5MiB'. @default - swr-sync's `--bandwidth` */
  readonly bandwidth?: number | string;
}

/** `swr-mirror.json`: the images a stack mirrors, input of `swr-sync sync --images` and of the Action. */
export interface MirrorSpec {
  /** Format version. */
  readonly version: 1;
  /** The stack's name. */
  readonly stack: string;
  /** The stack's mirrored images. */
  readonly images: MirrorSpecImage[];
  /** Rate and bandwidth per registry host, as `MirrorSetProps.registryLimits`. @default - none */
  readonly registries?: Record<string, RegistryLimit>;
}

export type { LockEntry, LockFile } from '../src/plan/lock-file.js';

/**
 * The lock file at `path`, or undefined when there is none yet (before the first sync). Read synchronously
 * (construction is synchronous) and validated by the same schema swr-sync writes with.
 */
export function readLockFile(path: string): LockFile | undefined {
  if (!existsSync(path)) return undefined;
  return parseLockFile(readFileSync(path, 'utf8'), path);
}

/** Two-space indent and a trailing newline, fields in the documented order (docs/constructs.md), so diffs stay small. */
export function serializeMirrorSpec(spec: MirrorSpec): string {
  const images = spec.images.map((i) => ({
    id: i.id,
    source: i.source,
    destination: i.destination,
    ...(i.tags ? { tags: i.tags } : {}),
    ...(i.platforms ? { platforms: i.platforms } : {}),
    ...(i.referrers ? { referrers: true } : {}),
  }));
  return `${JSON.stringify({ version: spec.version, stack: spec.stack, images, ...(spec.registries ? { registries: spec.registries } : {}) }, null, 2)}\n`;
}
