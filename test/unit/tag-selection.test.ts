import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TagSelection } from '../../src/config/mirror-rule.js';
import { needsTagList, selectTags, semverOfTag } from '../../src/config/tag-selection.js';
import { TagPattern } from '../../src/config/tag-pattern.js';

function filter(options: { include?: RegExp[]; exclude?: RegExp[]; semver?: string; latest?: number }): TagSelection {
  // The regexes here are written as JavaScript literals for brevity; every one means the same in RE2.
  const re2 = (list: RegExp[] | undefined) => (list ?? []).map((re) => TagPattern.compile(re.source));
  return {
    kind: 'filter',
    include: re2(options.include),
    exclude: re2(options.exclude),
    ...(options.semver !== undefined ? { semver: options.semver } : {}),
    ...(options.latest !== undefined ? { latest: options.latest } : {}),
  };
}

const TAGS = [
  'latest',
  '1.2.0',
  'v1.2.5',
  '1.2',
  '1.3.0-rc.1',
  '1.3.0',
  '2.0.0',
  '2.4.1',
  'v2.10.0',
  '3.0.0-beta.2',
  '2024.01',
  'stable-alpine',
];

describe('needsTagList', () => {
  it('is true for all and filter, false for tags and digest', () => {
    assert.equal(needsTagList({ kind: 'all' }), true);
    assert.equal(needsTagList(filter({})), true);
    assert.equal(needsTagList({ kind: 'tags', tags: ['1'] }), false);
    assert.equal(needsTagList({ kind: 'digest', digest: `sha256:${'a'.repeat(64)}` }), false);
  });
});

describe('semverOfTag', () => {
  it('reads strict semantic versions, with an optional v', () => {
    assert.equal(semverOfTag('1.2.3'), '1.2.3');
    assert.equal(semverOfTag('v1.2.3'), '1.2.3');
    assert.equal(semverOfTag('1.2.3-rc.1'), '1.2.3-rc.1');
    assert.equal(semverOfTag('1.27.3-alpine'), '1.27.3-alpine');
  });

  it('coerces nothing', () => {
    for (const tag of [
      '1.27',
      '7',
      '2024.01',
      'latest',
      'stable-alpine',
      '1.2.3beta',
      '01.2.3',
      'vv1.2.3',
      'V1.2.3',
      'release-1.2.3',
    ]) {
      assert.equal(semverOfTag(tag), undefined, tag);
    }
  });
});

describe('selectTags', () => {
  it('all: every tag in the registry order, once', () => {
    assert.deepEqual(selectTags({ kind: 'all' }, ['b', 'a', 'b', 'c']), ['b', 'a', 'c']);
  });

  it("tags: the rule's own tags; digest: none", () => {
    assert.deepEqual(selectTags({ kind: 'tags', tags: ['x', 'y'] }, ['y']), ['x', 'y']);
    assert.deepEqual(selectTags({ kind: 'digest', digest: `sha256:${'a'.repeat(64)}` }, TAGS), []);
  });

  it('include: any regex matches, unanchored; none means every tag', () => {
    assert.deepEqual(selectTags(filter({ include: [/^1\.2/] }), TAGS), ['1.2.0', '1.2']);
    assert.deepEqual(selectTags(filter({ include: [/alpine/, /^v/] }), TAGS), ['v1.2.5', 'v2.10.0', 'stable-alpine']);
    assert.deepEqual(selectTags(filter({ include: [/\.0\./] }), TAGS), ['2.0.0', '3.0.0-beta.2']);
    assert.deepEqual(selectTags(filter({}), TAGS), TAGS);
  });

  it('exclude: removes matches', () => {
    assert.deepEqual(selectTags(filter({ exclude: [/-/, /^v/, /\./] }), TAGS), ['latest']);
    assert.deepEqual(selectTags(filter({ include: [/^2/], exclude: [/^2024/] }), TAGS), ['2.0.0', '2.4.1']);
  });

  it('a global regex keeps no state between tags', () => {
    assert.deepEqual(selectTags(filter({ include: [/^a/g] }), ['a1', 'a2', 'a3', 'b']), ['a1', 'a2', 'a3']);
  });

  it('semver ^1.2: releases of 1.x from 1.2.0, in the registry order', () => {
    assert.deepEqual(selectTags(filter({ semver: '^1.2' }), TAGS), ['1.2.0', 'v1.2.5', '1.3.0']);
  });

  it('semver >=2 <3', () => {
    assert.deepEqual(selectTags(filter({ semver: '>=2 <3' }), TAGS), ['2.0.0', '2.4.1', 'v2.10.0']);
  });

  it('prereleases only when the range names one of the same version', () => {
    assert.deepEqual(selectTags(filter({ semver: '>=1.3.0-rc.0 <2' }), TAGS), ['1.3.0-rc.1', '1.3.0']);
    assert.deepEqual(selectTags(filter({ semver: '>=1' }), TAGS), [
      '1.2.0',
      'v1.2.5',
      '1.3.0',
      '2.0.0',
      '2.4.1',
      'v2.10.0',
    ]);
    assert.deepEqual(selectTags(filter({ semver: '^3.0.0-beta.1' }), TAGS), ['3.0.0-beta.2']);
    // A suffixed variant is a prerelease: not a match for a plain range.
    assert.deepEqual(selectTags(filter({ semver: '^1.27' }), ['1.27.3', '1.27.3-alpine', '1.27']), ['1.27.3']);
  });

  it('non-semver tags never match a range', () => {
    assert.deepEqual(selectTags(filter({ semver: '*' }), ['1.27', '7', '2024.01', 'latest', '1.2.3beta', '0.0.1']), [
      '0.0.1',
    ]);
  });

  it('latest N: the N highest releases, highest first', () => {
    assert.deepEqual(selectTags(filter({ latest: 3 }), TAGS), ['v2.10.0', '2.4.1', '2.0.0']);
    assert.deepEqual(selectTags(filter({ latest: 100 }), TAGS), [
      'v2.10.0',
      '2.4.1',
      '2.0.0',
      '1.3.0',
      'v1.2.5',
      '1.2.0',
    ]);
  });

  it('latest N within a range, after include and exclude', () => {
    assert.deepEqual(selectTags(filter({ semver: '^1', latest: 2 }), TAGS), ['1.3.0', 'v1.2.5']);
    assert.deepEqual(selectTags(filter({ semver: '>=1.3.0-rc.0', latest: 2 }), TAGS), ['v2.10.0', '2.4.1']);
    assert.deepEqual(selectTags(filter({ exclude: [/^v/], latest: 2 }), TAGS), ['2.4.1', '2.0.0']);
    assert.deepEqual(selectTags(filter({ include: [/^1\./], latest: 5 }), TAGS), ['1.3.0', '1.2.0']);
  });

  it('latest keeps the registry order for equal versions', () => {
    assert.deepEqual(selectTags(filter({ latest: 2 }), ['v1.0.0', '1.0.0', '0.9.0']), ['v1.0.0', '1.0.0']);
    assert.deepEqual(selectTags(filter({ latest: 2 }), ['1.0.0', 'v1.0.0', '0.9.0']), ['1.0.0', 'v1.0.0']);
  });
});
