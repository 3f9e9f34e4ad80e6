import { createHash } from 'node:crypto';
import { SwrSyncError } from '../errors.js';

/** `--shard I/N`: this run takes share I (1-based) of N. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `I/N` (1 <= I <= N): the share of the work, grouped by source repository, one run of a matrix takes. */
export function parseShard(text: string, argument = '--shard'): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > 10_000 || index < 1 || index > count) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${argument} "${text}" must be I/N with 1 <= I <= N <= 10000 (e.g. 2/4; for a Kubernetes Indexed Job use $((JOB_COMPLETION_INDEX+1))/N)`,
    );
  }
  return { index, count };
}

/**
 * Which shard a source repository belongs to. Work is grouped by source repository, so the tags of one repository
 * (which share most layers) stay in one shard and each layer is read once; the hash spreads repositories evenly
 * and does not depend on the order of the input files, so every shard of a matrix agrees without talking.
 */
export function shardOf(sourceRepository: string, count: number): number {
  const hash = createHash('sha256').update(sourceRepository).digest();
  return (hash.readUInt32BE(0) % count) + 1;
}

export function inShard(sourceRepository: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOf(sourceRepository, shard.count) === shard.index;
}
