import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MediaType, parseManifest } from '../../src/oci/manifest.js';

const where = { registry: 'r.io', repository: 'a' };

describe('parseManifest', () => {
  const d = (mediaType: string) => ({ mediaType, digest: `sha256:${'b'.repeat(64)}`, size: 1 });
  test('index and manifest by content type', () => {
    const index = parseManifest(
      Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [d(MediaType.OciManifest)] })),
      MediaType.OciIndex,
      where,
    );
    assert.equal(index.kind, 'index');
    const manifest = parseManifest(
      Buffer.from(JSON.stringify({ schemaVersion: 2, config: d('c'), layers: [d('l')] })),
      `${MediaType.DockerManifest}; charset=utf-8`,
      where,
    );
    assert.equal(manifest.kind, 'manifest');
    assert.equal(manifest.mediaType, MediaType.DockerManifest);
  });
  test('schema 1 is refused with a clear error', () => {
    assert.throws(
      () =>
        parseManifest(
          Buffer.from(JSON.stringify({ schemaVersion: 1, fsLayers: [] })),
          MediaType.DockerSchema1Signed,
          where,
        ),
      /schema 1/,
    );
  });
  test('broken descriptors name the field', () => {
    assert.throws(
      () =>
        parseManifest(
          Buffer.from(JSON.stringify({ schemaVersion: 2, config: d('c'), layers: [{ digest: 'x' }] })),
          MediaType.OciManifest,
          where,
        ),
      /layers\[0\]/,
    );
    assert.throws(() => parseManifest(Buffer.from('{'), MediaType.OciManifest, where), /not valid JSON/);
  });
});
