import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstCheckRequest } from '../../src/engine/copy-engine.js';
import { parseReference } from '../../src/oci/reference.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

/** The request a check starts with, which a run sends ahead while other tag lists are read (docs/cli.md, "Run."). */
describe('firstCheckRequest', () => {
  const src = parseReference('src.example/app:v1');
  const dst = parseReference('dst.example/mirror/app:v1');

  test('a lock that vouches for the destination: the source HEAD, pull', () => {
    assert.deepEqual(firstCheckRequest(src, dst, { locked: { sourceDigest: D1, digest: D1 } }), {
      side: 'source',
      registry: 'src.example',
      repository: 'app',
      ref: 'v1',
      access: 'pull',
    });
  });

  test('no lock, or a lock whose destination digest differs from the source: the destination HEAD, push', () => {
    const expected = {
      side: 'destination',
      registry: 'dst.example',
      repository: 'mirror/app',
      ref: 'v1',
      access: 'push',
    };
    assert.deepEqual(firstCheckRequest(src, dst), expected);
    assert.deepEqual(firstCheckRequest(src, dst, { locked: { sourceDigest: D1, digest: D2 } }), expected);
  });

  test('a destination without a tag is checked under the source tag', () => {
    const untagged = parseReference('dst.example/mirror/app', { defaultTag: false });
    assert.equal(firstCheckRequest(src, untagged)?.ref, 'v1');
  });

  test('a source by digest with a lock needs no request first; without a lock the destination tag is asked', () => {
    const byDigest = parseReference(`src.example/app@${D1}`);
    assert.equal(firstCheckRequest(byDigest, dst, { locked: { sourceDigest: D1, digest: D1 } }), undefined);
    assert.equal(firstCheckRequest(byDigest, dst)?.ref, 'v1');
  });

  test('a platform filter or a layout destination: nothing is sent ahead', () => {
    assert.equal(firstCheckRequest(src, dst, { platforms: [{ os: 'linux', architecture: 'amd64' }] }), undefined);
    assert.equal(firstCheckRequest(src, parseReference('oci:/tmp/layout:v1')), undefined);
  });
});
