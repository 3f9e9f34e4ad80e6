import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import { SwrSyncError } from '../../src/errors.js';
import { applyArchiveOutcomes } from '../../src/results/archive-outcomes.js';

const image = (destination: string, status: ImageResult['status'] = 'copied'): ImageResult => ({
  source: 'r.example/a:1',
  destination,
  platforms: [],
  bytesTransferred: 1,
  bytesSkipped: 0,
  blobs: { copied: 1, mounted: 0, present: 0 },
  status,
  durationMs: 1,
});

describe('archive outcomes (results/archive-outcomes.ts)', () => {
  test('an image whose archive could not be written failed, with the archive error; the others are untouched', () => {
    const error = new SwrSyncError('ERR_LAYOUT', 'oci-archive:/out/a.tar: cannot write the archive (ENOSPC)');
    const results = [
      image('oci-archive:/out/a.tar:v1'),
      image('oci-archive:/out/b.tar:v1'),
      image('r.example/ns/a:1'),
      image('oci-archive:/out/a.tar:v2', 'failed'),
    ];
    const after = applyArchiveOutcomes(results, [
      { name: 'oci-archive:/out/a.tar', written: false, error },
      { name: 'oci-archive:/out/b.tar', written: true },
    ]);
    assert.equal(after[0]!.status, 'failed');
    assert.deepEqual(after[0]!.error, { code: 'ERR_LAYOUT', message: error.message });
    assert.deepEqual(after.slice(1, 3), results.slice(1, 3));
    assert.equal(after[3], results[3]);
  });

  test('no failed archive: the same results', () => {
    const results = [image('oci-archive:/out/a.tar:v1')];
    assert.deepEqual(applyArchiveOutcomes(results, [{ name: 'oci-archive:/out/a.tar', written: true }]), results);
  });
});
