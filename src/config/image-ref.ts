import { InvalidReferenceError } from '../errors.js';
import { resolve } from 'node:path';
import {
  isLayoutRegistry,
  layoutTransportOf,
  parseReference,
  refNameProblem,
  splitDigest,
  tagProblem,
} from '../oci/reference.js';
import type { RuleDestination, TagSelection } from './mirror-rule.js';
import { TagPattern, TagPatternError } from './tag-pattern.js';

/**
 * References as rule files write them, shared by both formats (image-migrator's images.json, read by images-file.ts,
 * and the mirror spec): splitting a source or destination, tag regexes, and what a rule writes where.
 */

/** A source or destination as written in a rule file, split up. */
export interface ImageRef {
  readonly registry: string;
  readonly repository: string;
  /** Exact tags: one, or image-syncer's comma list `repo:a,b`. */
  readonly tags?: readonly string[];
  /** image-syncer's tag regex `repo:/regex/` (its source, without the slashes). */
  readonly regex?: string;
  readonly digest?: string;
}

export type Problem = { readonly problem: string };

export function isProblem(value: object): value is Problem {
  return 'problem' in value;
}

export const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** distribution's splitDockerDomain: the first path component names a registry. */
export function isRegistryComponent(first: string): boolean {
  return /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
}

/**
 * Splits `registry/namespace/repository[:tag[,tag...]|:/regex/][@digest]` (image-syncer's grammar over
 * distribution's). Image-migrator's rules 1–3 apply: one repository at most, the reference grammar, and a
 * destination names its registry. Extensions: a source without a registry gets Docker Hub's defaults (`nginx` is
 * `docker.io/library/nginx`), and `registry/repository` without a namespace is accepted (so `quay.io/coreos`
 * cannot be told from a repository and is taken for one). The problem text names the role, the value and the rule.
 */
export function parseImageRef(text: string, role: 'source' | 'destination'): ImageRef | Problem {
  const bad = (why: string, rule: number): Problem => ({ problem: `${role} "${text}" ${why} (rule ${rule})` });
  if (text === '') return bad('is empty', role === 'source' ? 4 : 3);
  if (/\s/.test(text)) return bad('contains whitespace', 2);
  if (layoutTransportOf(text) !== undefined) return parseLayoutImageRef(text, role, bad);
  if (URL_SCHEME.test(text)) return bad('must not have a URL scheme: write registry/namespace/repository[:tag]', 2);
  if (text.includes('*')) return bad('contains "*": a rule copies one repository, wildcards are not supported', 1);

  let rest = text;
  let regex: string | undefined;
  const regexStart = text.indexOf(':/');
  if (regexStart >= 0) {
    if (!text.endsWith('/') || text.length < regexStart + 3)
      return bad('has a tag regex without its closing "/": write repository:/regex/', 2);
    regex = text.slice(regexStart + 2, -1);
    rest = text.slice(0, regexStart);
    if (regex === '') return bad('has an empty tag regex', 2);
    if (role === 'destination') return bad('cannot select tags by a regex: a regex selects source tags', 2);
  } else if (text.endsWith('/')) {
    return bad('ends with "/": a rule copies one repository, not a whole namespace or registry', 1);
  }

  const split = splitDigest(rest);
  const digest = split.digest;
  rest = split.name;
  if (split.problem) return bad(`has an invalid digest: ${split.problem}`, 2);
  if (digest !== undefined && regex !== undefined) return bad('has both a digest and a tag regex', 2);

  let tags: string[] | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const written = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (regex !== undefined) return bad('has both a tag and a tag regex', 2);
    tags = written.split(',');
    for (const [i, tag] of tags.entries()) {
      if (tag === '')
        return bad(tags.length > 1 ? 'has an empty tag in its tag list' : 'has an empty tag after ":"', 2);
      const problem = tagProblem(tag);
      if (problem) return bad(`has an invalid tag "${tag}": ${problem}`, 2);
      if (tags.indexOf(tag) !== i) return bad(`lists tag "${tag}" twice`, 2);
    }
  }

  if (rest === '') return bad('has no repository name', 2);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? rest : rest.slice(0, slash);
  if (slash < 0 && (first.includes('.') || first === 'localhost')) {
    return role === 'source'
      ? bad('names only a registry: a rule copies one repository, not a whole registry', 1)
      : bad('names only a registry: a destination names at least a registry and a repository', 3);
  }
  if (role === 'destination' && (slash < 0 || !isRegistryComponent(first))) {
    return bad(
      `must name a registry and a repository, e.g. swr.cn-north-4.myhuaweicloud.com/<namespace>/${rest.slice(rest.lastIndexOf('/') + 1)}`,
      3,
    );
  }
  try {
    const ref = parseReference(rest, { defaultTag: false });
    return {
      registry: ref.registry,
      repository: ref.repository,
      ...(tags !== undefined ? { tags } : {}),
      ...(regex !== undefined ? { regex } : {}),
      ...(digest !== undefined ? { digest } : {}),
    };
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
    const prefix = `invalid image reference "${e.input}": `;
    const reason = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return bad(`is not registry/namespace/repository[:tag]: ${reason}`, 2);
  }
}

/**
 * An OCI image layout in a rule file: `oci:DIR[:REF]` or `oci-archive:FILE[:REF]` (reference.ts), where REF may be
 * a comma list of ref names or, for a source, a `/regex/`, as a tag is for a registry. A layout without REF is every
 * ref name of its index.json, as a repository without tag is every tag (rule 6). The path is absolute against the
 * working directory. skopeo's `@N` (an unnamed entry) is for `swr-sync copy`: a file names images by ref name.
 */
function parseLayoutImageRef(
  text: string,
  role: 'source' | 'destination',
  bad: (why: string, rule: number) => Problem,
): ImageRef | Problem {
  const transport = layoutTransportOf(text)!;
  const form = transport === 'oci' ? 'oci:DIR[:REF]' : 'oci-archive:FILE[:REF]';
  const rest = text.slice(transport.length + 1);
  const colon = rest.indexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const written = colon < 0 ? '' : rest.slice(colon + 1);
  if (path === '')
    return bad(`names no ${transport === 'oci' ? 'layout directory' : 'archive file'}: write ${form}`, 2);
  if (path.startsWith('//')) return bad(`takes a file system path, not a URL: write ${form}`, 2);
  const base = { registry: transport, repository: resolve(path) };
  if (written === '') return base;
  if (written.length > 2 && written.startsWith('/') && written.endsWith('/')) {
    if (role === 'destination') return bad('cannot select tags by a regex: a regex selects source tags', 2);
    return { ...base, regex: written.slice(1, -1) };
  }
  const tags = written.split(',');
  for (const [i, tag] of tags.entries()) {
    if (tag === '')
      return bad(tags.length > 1 ? 'has an empty ref name in its list' : 'has an empty ref name after ":"', 2);
    if (tag.startsWith('@'))
      return bad(
        `names "${tag}": a source index (@N) is for swr-sync copy; in a file, name the image by its ref name`,
        2,
      );
    const problem = refNameProblem(tag);
    if (problem) return bad(`has an invalid ref name "${tag}": ${problem}`, 2);
    if (tags.indexOf(tag) !== i) return bad(`lists ref name "${tag}" twice`, 2);
  }
  return { ...base, tags };
}

/** A tag regex from a rule file (unanchored, RE2 syntax as image-syncer's Go regexp: tag-pattern.ts), or the problem with it. */
export function compileTagRegex(source: string, where: string): TagPattern | Problem {
  try {
    return TagPattern.compile(source);
  } catch (e) {
    if (!(e instanceof TagPatternError)) throw e;
    return {
      problem: `${where} "${source}" is not a valid RE2 regular expression (Go syntax, as image-syncer): ${e.reason}`,
    };
  }
}

/** The source's tag selection as written in the reference (images.json, or a mirror spec without `tags`). */
export function selectionOfSource(source: ImageRef, text: string): TagSelection | Problem {
  if (source.digest !== undefined) {
    if (source.tags !== undefined && source.tags.length > 1)
      return { problem: `source "${text}" names several tags and a digest (rule 2)` };
    return { kind: 'digest', digest: source.digest };
  }
  if (source.regex !== undefined) {
    const re = compileTagRegex(source.regex, `source "${text}": tag regex`);
    return re instanceof TagPattern ? { kind: 'filter', include: [re], exclude: [] } : re;
  }
  if (source.tags !== undefined) return { kind: 'tags', tags: source.tags };
  return { kind: 'all' };
}

/**
 * Checks a destination against the rule's selection (rules 6 and 7, image-syncer's renaming by position).
 * `pinnedTags`: the tag written with a source digest (`repo:tag@sha256:…`), used when the destination has none.
 */
export function ruleDestination(
  selection: TagSelection,
  destination: ImageRef,
  text: string,
  pinnedTags?: readonly string[],
): RuleDestination | Problem {
  const what = `destination "${text}"`;
  if (destination.digest !== undefined) {
    // image-syncer accepts `src@D → dst@D`: the destination may repeat the source digest, and names nothing else.
    if (selection.kind === 'digest' && destination.tags === undefined) {
      if (destination.digest === selection.digest)
        return { registry: destination.registry, repository: destination.repository };
      return {
        problem: `${what} names another digest than the source's: a copy keeps its digest, so the two must match (rule 2)`,
      };
    }
    return { problem: `${what} cannot name a digest: images are written by tag (rule 2)` };
  }
  const base = { registry: destination.registry, repository: destination.repository };
  const tags = destination.tags;
  switch (selection.kind) {
    case 'all':
      if (tags)
        return {
          problem: `${what} must not have a tag when the source has none (rule 6: every tag is copied under its own name)`,
        };
      return base;
    case 'filter':
      if (tags)
        return {
          problem: `${what} must not have a tag when tags are selected by a regex or filter: each tag keeps its name (rule 6)`,
        };
      return base;
    case 'tags':
      if (!tags) return base;
      if (tags.length !== selection.tags.length) {
        return {
          problem: `${what} has ${tags.length} tag${tags.length === 1 ? '' : 's'} for the source's ${selection.tags.length}: destination tags rename source tags by position, so the counts must match (rule 7)`,
        };
      }
      return { ...base, tags };
    case 'digest':
      if (tags) return { ...base, tags };
      if (pinnedTags) return { ...base, tags: pinnedTags };
      // index.json lists images by ref name: an image stored by digest alone would not be listed at all.
      if (isLayoutRegistry(base.registry))
        return { problem: `${what} needs a :REF: the source is pinned by digest and has no tag to reuse (rule 7)` };
      return base;
  }
}
