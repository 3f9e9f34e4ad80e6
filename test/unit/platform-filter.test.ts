import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Descriptor } from '../../src/oci/manifest.js';
import { parsePlatforms } from '../../src/oci/platform.js';
import { filterIndex } from '../../src/oci/platform-filter.js';
import { parseReference } from '../../src/oci/reference.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const child = (c: string, architecture: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digest(c),
  size: 10,
  platform: { os: annotations ? 'unknown' : 'linux', architecture: annotations ? 'unknown' : architecture },
  ...(annotations ? { annotations } : {}),
});
const amd64 = child('a', 'amd64');
const arm64 = child('b', 'arm64');
// BuildKit's attestation manifest for the amd64 image.
const attestation = child('c', 'unknown', {
  'vnd.docker.reference.type': 'attestation-manifest',
  'vnd.docker.reference.digest': digest('a'),
});
const manifests = [amd64, arm64, attestation];
const bytes = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests,
    annotations: { kept: 'yes' },
  }),
);
const src = parseReference('r.example/ns/app:1');

describe('platform filter (oci/platform-filter.ts)', () => {
  test('no filter, or a filter every child matches: the source bytes untouched', () => {
    assert.equal(filterIndex(bytes, manifests, undefined, src).bytes, bytes);
    const all = filterIndex(bytes, manifests, parsePlatforms('linux/amd64,linux/arm64'), src);
    assert.equal(all.filtered, false);
    assert.equal(all.bytes, bytes);
  });

  test('a filter keeps the matching children and their attestations, in a new index that keeps every other field', () => {
    const kept = filterIndex(bytes, manifests, parsePlatforms('linux/amd64'), src);
    assert.equal(kept.filtered, true);
    assert.deepEqual(
      kept.children.map((c) => c.digest),
      [digest('a'), digest('c')],
    );
    const index = JSON.parse(kept.bytes.toString('utf8')) as {
      manifests: Descriptor[];
      annotations: Record<string, string>;
    };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [digest('a'), digest('c')],
    );
    assert.deepEqual(index.annotations, { kept: 'yes' });
  });

  test('no child of a wanted platform: an error naming the platforms asked for and those present', () => {
    assert.throws(
      () => filterIndex(bytes, manifests, parsePlatforms('linux/s390x'), src),
      (e: unknown) =>
        (e as { code?: string }).code === 'ERR_PLATFORM_NOT_FOUND' &&
        /linux\/s390x/.test((e as Error).message) &&
        /linux\/amd64, linux\/arm64/.test((e as Error).message),
    );
  });
});
