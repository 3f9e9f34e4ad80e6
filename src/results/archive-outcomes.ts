import { describeError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import type { ImageResult } from '../engine/image-result.js';
import type { ArchiveOutcome } from '../store/oci-layout.js';

/**
 * Image results after `finish()`: an image whose archive could not be written did not arrive, whatever the copy
 * into the staging layout reported.
 */
export function applyArchiveOutcomes(
  results: readonly ImageResult[],
  outcomes: readonly ArchiveOutcome[],
): ImageResult[] {
  const failed = new Map(outcomes.filter((o) => o.error).map((o) => [o.name, o.error!]));
  if (failed.size === 0) return [...results];
  return results.map((result) => {
    if (result.status === 'failed') return result;
    let name: string;
    try {
      name = parseReference(result.destination, { defaultTag: false }).name;
    } catch {
      return result;
    }
    const error = failed.get(name);
    return error ? { ...result, status: 'failed', error: { code: error.code, message: describeError(error) } } : result;
  });
}
