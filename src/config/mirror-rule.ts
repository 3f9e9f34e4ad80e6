import type { Platform } from '../oci/platform.js';
import type { TagPattern } from './tag-pattern.js';

/**
 * A mirror rule: one source repository, which of its tags, and where they go. Both input formats become rules:
 * image-migrator / image-syncer `images.json` (a key per source) and the mirror spec `swr-mirror.json`
 * (docs/file-formats.md). Plain data; the planner expands rules into image tasks.
 */

/** Which tags of the source repository a rule takes. */
export type TagSelection =
  /** Every tag (image-migrator rule 6: a source without a tag). */
  | { readonly kind: 'all' }
  /** These tags, exactly (a source tag, or image-syncer's `tag1,tag2` list). */
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  /** One manifest by digest (`repo@sha256:…`); `tag` is the tag written with it, if any. */
  | { readonly kind: 'digest'; readonly digest: string }
  /**
   * Tags chosen from the repository's tag list: those matching any `include` regex (all when none), minus those
   * matching any `exclude` regex, then those satisfying the `semver` range, then the `latest` N by semver.
   * image-syncer's `repo:/regex/` is `{ include: [regex] }`. Regexes are RE2 (Go) syntax, see tag-pattern.ts.
   */
  | {
      readonly kind: 'filter';
      readonly include: readonly TagPattern[];
      readonly exclude: readonly TagPattern[];
      readonly semver?: string;
      readonly latest?: number;
    };

export interface RuleDestination {
  readonly registry: string;
  readonly repository: string;
  /**
   * Destination tags by position for the rule's exact source tags (image-syncer renames `a,b` → `x,y`); a single
   * tag for a single source tag (image-migrator rule 7). Undefined: each source tag is kept (rules 6 and 7).
   */
  readonly tags?: readonly string[];
}

export interface MirrorRule {
  /** File the rule came from, for messages. */
  readonly file: string;
  /** The rule's key as the user wrote it (an images.json key, or `images[2]` / the id in a mirror spec). */
  readonly key: string;
  /** Mirror spec `id`, when the rule came from a mirror spec. */
  readonly id?: string;
  readonly source: { readonly registry: string; readonly repository: string };
  readonly selection: TagSelection;
  readonly destinations: readonly RuleDestination[];
  /** Platform filter for this rule (mirror spec `platforms`); the CLI `--platform` applies where this is unset. */
  readonly platforms?: readonly Platform[];
  /** Also copy signatures, attestations and SBOMs (mirror spec `referrers`); `--with-referrers` applies where unset. */
  readonly referrers?: boolean;
}
