import { stringify } from 'yaml';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { ImageResult } from '../engine/image-result.js';

/**
 * image-syncer's `--output-success-images`: the images that succeeded, as an images file (each source mapped to
 * the list of its destinations), so it can be read back with `--images`. image-syncer writes YAML unless
 * `--output-images-format json`. Images already at the destination count as succeeded here (image-syncer leaves
 * them out, a gap its source marks as a TODO); skipped and failed images are not listed.
 */
export function successImages(results: readonly ImageResult[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const r of results) {
    if (r.status !== 'copied' && r.status !== 'unchanged') continue;
    const list = (map[r.source] ??= []);
    if (!list.includes(r.destination)) list.push(r.destination);
  }
  return map;
}

/** Writes `successImages(results)` to `file` (atomically) as YAML or JSON. */
export async function writeSuccessImages(
  file: string,
  results: readonly ImageResult[],
  format: 'yaml' | 'json',
): Promise<void> {
  const map = successImages(results);
  await writeFileAtomic(file, format === 'json' ? `${JSON.stringify(map, null, 2)}\n` : stringify(map));
}
