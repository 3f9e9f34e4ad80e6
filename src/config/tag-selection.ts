import semver from 'semver';
import type { TagSelection } from './mirror-rule.js';

/**
 * Choosing tags from a repository's tag list for the rules that need one (`all` and `filter`).
 *
 * Semantic versions: only tags that ARE semantic versions count, optionally with a leading `v` (`1.2.3`,
 * `v1.2.3`, `1.2.3-rc.1`). Nothing is coerced: `1.27`, `7`, `2024.01`, `latest` or `stable-alpine` are not
 * versions and never match a `semver` range nor count towards `latest`. (semver.coerce would turn `2024.01` into
 * 2024.1.0 and `1.2.3-alpine-foo` into 1.2.3, and loose parsing accepts `1.2.3beta`; both would pick tags the
 * user did not mean.) A suffix such as `1.27.3-alpine` is a semver prerelease, so it matches a range only when the
 * range itself names a prerelease of the same version (semver's default, `includePrerelease: false`).
 */

/** Whether the rule's tags come from the repository's tag list. */
export function needsTagList(selection: TagSelection): boolean {
  return selection.kind === 'all' || selection.kind === 'filter';
}

/** `1.2.3` or `v1.2.3` (with prerelease), strictly; undefined for any other tag. */
export function semverOfTag(tag: string): string | undefined {
  const text = tag.startsWith('v') ? tag.slice(1) : tag;
  // semver.valid itself accepts a leading `v` and surrounding whitespace; a tag gets exactly one optional `v`.
  if (!/^[0-9][0-9A-Za-z.-]*$/.test(text)) return undefined;
  return semver.valid(text) ?? undefined;
}

/**
 * The tags a rule copies, given the repository's tag list `available`.
 *
 * - `all`: every tag, in the registry's order (duplicates dropped).
 * - `filter`: tags matching any `include` regex (every tag when `include` is empty), minus those matching any
 *   `exclude` regex (regexes are unanchored, like image-syncer's Go `MatchString`), then, with `semver`, the
 *   semantic-version tags satisfying the range, then, with `latest: N`, the N highest versions. The order is the
 *   registry's, except with `latest`: highest version first (tags of equal version in the registry's order).
 *   `latest` without `semver` ranks releases only (as the range `*` would): prereleases are left out.
 * - `tags`: the rule's own tags, whether or not listed (a missing tag is the copy's error to report).
 * - `digest`: none (a digest rule copies no tag).
 */
export function selectTags(selection: TagSelection, available: readonly string[]): string[] {
  switch (selection.kind) {
    case 'tags':
      return [...selection.tags];
    case 'digest':
      return [];
    case 'all':
      return unique(available);
    case 'filter':
      return applyFilter(selection, unique(available));
  }
}

function unique(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

function applyFilter(filter: Extract<TagSelection, { kind: 'filter' }>, tags: string[]): string[] {
  let chosen = tags.filter(
    (tag) =>
      (filter.include.length === 0 || filter.include.some((p) => p.test(tag))) &&
      !filter.exclude.some((p) => p.test(tag)),
  );
  if (filter.semver === undefined && filter.latest === undefined) return chosen;

  const range = filter.semver ?? '*';
  const versions = new Map<string, string>();
  chosen = chosen.filter((tag) => {
    const version = semverOfTag(tag);
    if (version === undefined || !semver.satisfies(version, range)) return false;
    versions.set(tag, version);
    return true;
  });
  if (filter.latest === undefined) return chosen;
  // Array.prototype.sort is stable: equal versions (`v1.2.3` beside `1.2.3`) keep the registry's order.
  return chosen
    .sort((a, b) => semver.rcompare(versions.get(a) as string, versions.get(b) as string))
    .slice(0, filter.latest);
}
