import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImagesFile } from '../../src/config/images-file.js';
import { parseMirrorSpec } from '../../src/config/mirror-spec.js';
import { selectTags } from '../../src/config/tag-selection.js';
import { TagPattern, TagPatternError } from '../../src/config/tag-pattern.js';

const TAGS = ['v1', 'v12', 'v1.0', 'v1x0', 'aaa', 'bbb', 'bbb-old', 'ABC', 'latest', 'V2'];

/** Tags image-syncer's Go `regexp.MatchString` selects from TAGS, worked out by hand from RE2's syntax page. */
const GO_SEMANTICS: Array<[pattern: string, expected: string[]]> = [
  ['^v[[:digit:]]+', ['v1', 'v12', 'v1.0', 'v1x0']],
  ['^v[[:digit:]]+$', ['v1', 'v12']],
  ['^\\Qv1.0\\E$', ['v1.0']],
  ['bbb\\z', ['bbb']],
  ['(?i)^v2$', ['V2']],
  ['(?i)abc', ['ABC']],
  ['^(?P<major>v[0-9]+)$', ['v1', 'v12']],
  ['\\Av1', ['v1', 'v12', 'v1.0', 'v1x0']],
  ['^[[:alpha:]]+$', ['aaa', 'bbb', 'ABC', 'latest']],
  ['a+', ['aaa', 'latest']],
  ['\\pL{3}', ['aaa', 'bbb', 'bbb-old', 'ABC', 'latest']],
];

describe('TagPattern: RE2 (Go regexp) syntax', () => {
  for (const [pattern, expected] of GO_SEMANTICS) {
    it(`/${pattern}/ selects ${expected.join(', ')}`, () => {
      const p = TagPattern.compile(pattern);
      assert.deepEqual(
        TAGS.filter((t) => p.test(t)),
        expected,
      );
    });
  }

  it("refuses what Go refuses (lookarounds, backreferences, possessive quantifiers), with RE2's reason", () => {
    for (const pattern of ['(?=v)', '(?<!a)b', '(a)\\1', 'a++', '[', 'a{1001}']) {
      assert.throws(
        () => TagPattern.compile(pattern),
        (e: unknown) => e instanceof TagPatternError && e.reason.length > 0,
        pattern,
      );
    }
  });

  it('exact() matches only the literal tag', () => {
    const p = TagPattern.exact('1.27.1');
    assert.ok(p.test('1.27.1'));
    assert.ok(!p.test('1x27x1'));
    assert.ok(!p.test('1.27.10'));
  });

  it('images.json and the mirror spec both read RE2', () => {
    const [rule] = parseImagesFile(JSON.stringify({ 'quay.io/a/b:/^v[[:digit:]]+$/': 'quay.io/c/d' }), 'images.json');
    assert.deepEqual(selectTags(rule!.selection, TAGS), ['v1', 'v12']);
    const [spec] = parseMirrorSpec(
      {
        version: 1,
        images: [{ source: 'quay.io/a/b', destination: 'quay.io/c/d', tags: { include: ['(?i)^v2$'], exclude: [] } }],
      },
      'swr-mirror.json',
    );
    assert.deepEqual(selectTags(spec!.selection, TAGS), ['V2']);
  });

  it("an invalid RE2 pattern names the file, key and RE2's reason", () => {
    assert.throws(
      () => parseImagesFile(JSON.stringify({ 'quay.io/a/b:/(?=v)/': 'quay.io/c/d' }), 'images.json'),
      /is not a valid RE2 regular expression.*Perl syntax/,
    );
  });
});
