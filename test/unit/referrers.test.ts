import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMirrorSpec } from '../../src/config/mirror-spec.js';
import { cosignTags, referrersTag } from '../../src/plan/referrers.js';

describe('referrers tag names', () => {
  test('the referrers tag schema: algorithm to 32 characters, encoded to 64, other characters replaced by "-" (distribution-spec table)', () => {
    assert.equal(referrersTag(`sha256:${'a'.repeat(64)}`), `sha256-${'a'.repeat(64)}`);
    assert.equal(referrersTag(`sha512:${'a'.repeat(128)}`), `sha512-${'a'.repeat(64)}`);
    assert.equal(
      referrersTag(
        'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
      ),
      'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
    );
  });

  test('cosign tags: sha256-<hex>.sig/.att/.sbom; none that would exceed the 128-character tag limit', () => {
    const hex = '0123456789abcdef'.repeat(4);
    assert.deepEqual(cosignTags(`sha256:${hex}`), [`sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`]);
    assert.deepEqual(cosignTags(`sha512:${hex}${hex}`), []);
  });
});

describe('mirror spec "referrers"', () => {
  const spec = (extra: Record<string, unknown>) => ({
    version: 1,
    images: [{ source: 'quay.io/acme/app:1.0', destination: 'swr.example.com/mirror/app', ...extra }],
  });

  test('optional: absent leaves the rule to --with-referrers; true and false are kept', () => {
    assert.equal(parseMirrorSpec(spec({}), 'swr-mirror.json')[0]!.referrers, undefined);
    assert.equal(parseMirrorSpec(spec({ referrers: true }), 'swr-mirror.json')[0]!.referrers, true);
    assert.equal(parseMirrorSpec(spec({ referrers: false }), 'swr-mirror.json')[0]!.referrers, false);
  });

  test('anything but a boolean is refused, naming the image and field', () => {
    assert.throws(
      () => parseMirrorSpec(spec({ referrers: 'yes' }), 'swr-mirror.json'),
      /swr-mirror\.json.*images\[0\].*"referrers" must be a boolean/s,
    );
  });
});
