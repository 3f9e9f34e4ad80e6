import semver from 'semver';
import { z } from 'zod';
import { InvalidReferenceError, SwrSyncError } from '../errors.js';
import { parsePlatforms, type Platform } from '../oci/platform.js';
import { resolve } from 'node:path';
import { isLayoutRegistry, layoutTransportOf, parseReference, Reference, refNameProblem, splitDigest, tagProblem } from '../oci/reference.js';
import type { MirrorRule, RuleDestination, TagSelection } from './mirror-rule.js';
import { MirrorSpecRegistriesSchema, parseRegistryLimits } from './registry-limits.js';
import { isRecord, ProblemList, tryExpandVariables } from './parse-text.js';
import { TagPattern, TagPatternError } from './tag-pattern.js';

/**
 * The mirror spec, `swr-mirror.json` (DESIGN §5): written by the constructs at synth, read by `swr-sync --images`,
 * also fine to write by hand (JSON or YAML). Also home of the parts both rule formats share (image-migrator's
 * images.json is read by images-file.ts): reference splitting, destination checks, rule 8 defaults.
 *
 * ```
 * { "version": 1, "stack"?: "...", "images": [ {
 *     "id"?: "nginx",                          // unique; names the image in messages and results
 *     "source": "docker.io/library/nginx",     // a tag or digest here copies that one tag or digest
 *     "destination"?: "swr.../ns/nginx",       // default: <registry>/<namespace>/<last component> (rule 8)
 *     "tags"?: ["1.27", "/^1\\.28\\./"] | { "include"?, "exclude"?, "semver"?, "latest"? },
 *     "platforms"?: ["linux/amd64"],
 *     "flatten"?: "all" | "none" | N,        // destination is registry[/namespace]; see below
 *     "referrers"?: true                      // also signatures, attestations, SBOMs (engine/referrers.ts)
 * } ],
 *   "registries"?: { "docker.io": { "rate"?: 2, "bandwidth"?: "20M" } }   // per-registry limits (registry-limits.ts)
 * }
 * ```
 *
 * `flatten` (Harbor's replication flattening): without it the destination is a whole repository; with it the
 * destination is `registry[/namespace]` and the repository path comes from the source: `all` keeps the last
 * component (`docker.io/library/nginx` → `<dest>/nginx`), `none` the whole path (`<dest>/library/nginx`), N drops
 * the first N components but always keeps the last.
 */

// ---------------------------------------------------------------------------------------------------------------
// Schema (shared with the constructs, which write the file)

export const MIRROR_SPEC_VERSION = 1;

export const MirrorSpecTagFilterSchema = z.strictObject({
  /** Regexes (unanchored; optionally written between slashes); a tag matching any is taken. @default every tag */
  include: z.array(z.string()).optional(),
  /** Regexes; a tag matching any is left out. */
  exclude: z.array(z.string()).optional(),
  /** A semver range (`^1.2`, `>=2 <3`); only semantic-version tags (`1.2.3`, `v1.2.3`) can match. */
  semver: z.string().optional(),
  /** The N highest semantic versions that pass the other filters. */
  latest: z.number().int().positive().optional(),
});

export const MirrorSpecImageSchema = z.strictObject({
  id: z.string().min(1).optional(),
  source: z.string(),
  destination: z.string().optional(),
  /** Exact tags, or `/regex/` entries; or a filter object. @default all tags (or the source's tag or digest) */
  tags: z.union([z.array(z.string()), MirrorSpecTagFilterSchema]).optional(),
  platforms: z.array(z.string()).optional(),
  flatten: z.union([z.enum(['all', 'none']), z.number().int().positive()]).optional(),
  /** Also copy what refers to each image: OCI 1.1 referrers and cosign tags. @default `--with-referrers` */
  referrers: z.boolean().optional(),
});

export const MirrorSpecFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(MIRROR_SPEC_VERSION),
  stack: z.string().optional(),
  images: z.array(MirrorSpecImageSchema),
  /** Requests/s and bytes/s per registry host; override `--rate` / `--bandwidth` for that registry. */
  registries: MirrorSpecRegistriesSchema.optional(),
});

export type MirrorSpecTagFilter = z.infer<typeof MirrorSpecTagFilterSchema>;
export type MirrorSpecFileImage = z.infer<typeof MirrorSpecImageSchema>;
export type MirrorSpecFile = z.infer<typeof MirrorSpecFileSchema>;

/** Options for both rule formats. */
export interface ImagesFileOptions {
  /** Default destination registry for rule 8 (`--registry`). @default env.DEFAULT_REGISTRY */
  readonly registry?: string;
  /** Default destination namespace for rule 8 (`--namespace`). @default env.DEFAULT_NAMESPACE */
  readonly namespace?: string;
  /** For `${VAR}` / `$VAR` and the DEFAULT_* fallbacks. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Whether a parsed document is a mirror spec rather than an images.json map. */
export function looksLikeMirrorSpec(document: unknown): boolean {
  return isRecord(document) && 'version' in document && 'images' in document;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by both formats: references

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

type Problem = { readonly problem: string };

function isProblem(value: object): value is Problem {
  return 'problem' in value;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** distribution's splitDockerDomain: the first path component names a registry. */
function isRegistryComponent(first: string): boolean {
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
    if (!text.endsWith('/') || text.length < regexStart + 3) return bad('has a tag regex without its closing "/": write repository:/regex/', 2);
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
      if (tag === '') return bad(tags.length > 1 ? 'has an empty tag in its tag list' : 'has an empty tag after ":"', 2);
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
    return bad(`must name a registry and a repository, e.g. swr.cn-north-4.myhuaweicloud.com/<namespace>/${rest.slice(rest.lastIndexOf('/') + 1)}`, 3);
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
function parseLayoutImageRef(text: string, role: 'source' | 'destination', bad: (why: string, rule: number) => Problem): ImageRef | Problem {
  const transport = layoutTransportOf(text)!;
  const form = transport === 'oci' ? 'oci:DIR[:REF]' : 'oci-archive:FILE[:REF]';
  const rest = text.slice(transport.length + 1);
  const colon = rest.indexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const written = colon < 0 ? '' : rest.slice(colon + 1);
  if (path === '') return bad(`names no ${transport === 'oci' ? 'layout directory' : 'archive file'}: write ${form}`, 2);
  if (path.startsWith('//')) return bad(`takes a file system path, not a URL: write ${form}`, 2);
  const base = { registry: transport, repository: resolve(path) };
  if (written === '') return base;
  if (written.length > 2 && written.startsWith('/') && written.endsWith('/')) {
    if (role === 'destination') return bad('cannot select tags by a regex: a regex selects source tags', 2);
    return { ...base, regex: written.slice(1, -1) };
  }
  const tags = written.split(',');
  for (const [i, tag] of tags.entries()) {
    if (tag === '') return bad(tags.length > 1 ? 'has an empty ref name in its list' : 'has an empty ref name after ":"', 2);
    if (tag.startsWith('@')) return bad(`names "${tag}": a source index (@N) is for swr-sync copy; in a file, name the image by its ref name`, 2);
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
    return { problem: `${where} "${source}" is not a valid RE2 regular expression (Go syntax, as image-syncer): ${e.reason}` };
  }
}

/** The source's tag selection as written in the reference (images.json, or a mirror spec without `tags`). */
export function selectionOfSource(source: ImageRef, text: string): TagSelection | Problem {
  if (source.digest !== undefined) {
    if (source.tags !== undefined && source.tags.length > 1) return { problem: `source "${text}" names several tags and a digest (rule 2)` };
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
  if (destination.digest !== undefined) return { problem: `${what} cannot name a digest: images are written by tag (rule 2)` };
  const base = { registry: destination.registry, repository: destination.repository };
  const tags = destination.tags;
  switch (selection.kind) {
    case 'all':
      if (tags) return { problem: `${what} must not have a tag when the source has none (rule 6: every tag is copied under its own name)` };
      return base;
    case 'filter':
      if (tags) return { problem: `${what} must not have a tag when tags are selected by a regex or filter: each tag keeps its name (rule 6)` };
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
      if (isLayoutRegistry(base.registry)) return { problem: `${what} needs a :REF: the source is pinned by digest and has no tag to reuse (rule 7)` };
      return base;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by both formats: rule 8 defaults

export interface DestinationDefaults {
  readonly registry?: string;
  readonly namespace?: string;
}

/** `options.registry` / `options.namespace`, falling back to DEFAULT_REGISTRY / DEFAULT_NAMESPACE; empty is unset. */
export function destinationDefaults(options: ImagesFileOptions): DestinationDefaults {
  const env = options.env ?? process.env;
  const registry = (options.registry || env.DEFAULT_REGISTRY || '').trim();
  const namespace = (options.namespace || env.DEFAULT_NAMESPACE || '').trim().replace(/^\/+|\/+$/g, '');
  return { ...(registry ? { registry } : {}), ...(namespace ? { namespace } : {}) };
}

/**
 * Rule 8: `<registry>/<namespace>/<path>`, where `path` is the last component of the source repository (or,
 * with `flatten`, the part of the source path it keeps).
 */
export function defaultDestination(defaults: DestinationDefaults, path: string, why: string): { registry: string; repository: string } | Problem {
  const missing = [
    defaults.registry === undefined ? ['registry', '--registry', 'DEFAULT_REGISTRY'] : undefined,
    defaults.namespace === undefined ? ['namespace', '--namespace', 'DEFAULT_NAMESPACE'] : undefined,
  ].filter((m): m is string[] => m !== undefined);
  if (missing.length > 0) {
    const names = missing.map((m) => m[0]).join(' and ');
    const flags = missing.map((m) => m[1]).join(' and ');
    const vars = missing.map((m) => m[2]).join(' and ');
    return {
      problem: `${why}, so it defaults to <registry>/<namespace>/${path} (rule 8), but no default ${names} ${missing.length > 1 ? 'are' : 'is'} set: pass ${flags}, or set ${vars}`,
    };
  }
  const registry = defaults.registry as string;
  const namespace = defaults.namespace as string;
  const text = `${registry}/${namespace}/${path}`;
  const host = registry.slice(0, registry.includes('/') ? registry.indexOf('/') : undefined);
  if (registry.includes('/') || !isRegistryComponent(host)) {
    return {
      problem: `${why}, so it defaults to ${text} (rule 8), but the default registry "${registry}" (--registry or DEFAULT_REGISTRY) is not a registry host[:port], e.g. swr.cn-north-4.myhuaweicloud.com`,
    };
  }
  const ref = parseImageRef(text, 'destination');
  if (isProblem(ref) || ref.tags || ref.digest || ref.regex) {
    const reason = isProblem(ref) ? ref.problem : 'has a tag or digest';
    return { problem: `${why}, so it defaults to ${text} (rule 8), but the default registry or namespace (--registry/--namespace, DEFAULT_REGISTRY/DEFAULT_NAMESPACE) is invalid: ${reason}` };
  }
  return { registry: ref.registry, repository: ref.repository };
}

export function lastComponent(repository: string): string {
  return repository.slice(repository.lastIndexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by both formats: two rules writing the same destination

/**
 * Remembers what each rule writes, to report a destination written twice (naming both keys), and a destination
 * that is its own source. Exact destinations (`repo:tag`, `repo@digest`) conflict whenever two rules write them;
 * whole-repository rules (all tags, a regex or filter) conflict when two DIFFERENT sources fill one destination
 * repository, since their tags would overwrite each other. (Several selections from one source into one
 * repository are a union, e.g. two regexes, and allowed. Overlaps only visible after listing tags, such as an
 * all-tags rule and a one-tag rule from another source, are left to the planner.)
 */
export class DestinationTracker {
  private readonly exact = new Map<string, { key: string; from: string }>();
  private readonly whole = new Map<string, { key: string; source: string; all: boolean }>();

  /**
   * `sameSourceOnce`: a destination written again from the same source (tag, digest, or all tags) is no conflict:
   * it is the same copy, done once (image-syncer's own examples write `repo:v1.0` by two rules, and it drops
   * repeated destinations of one rule). For images files; the mirror spec keeps reporting it.
   */
  constructor(private readonly options: { readonly sameSourceOnce?: boolean } = {}) {}

  /** Returns one problem per conflicting destination. */
  claim(rule: MirrorRule): string[] {
    const problems: string[] = [];
    const source = new Reference(rule.source.registry, rule.source.repository).name;
    const seenInRule = new Set<string>();
    for (const destination of rule.destinations) {
      const repo = new Reference(destination.registry, destination.repository).name;
      const selection = rule.selection;
      if (selection.kind === 'all' || selection.kind === 'filter') {
        if (seenInRule.has(repo)) {
          if (!this.options.sameSourceOnce) problems.push(`destination "${repo}" is listed twice`);
          continue;
        }
        seenInRule.add(repo);
        if (repo === source) {
          problems.push(`destination "${repo}" is the source repository itself`);
          continue;
        }
        const earlier = this.whole.get(repo);
        if (earlier && earlier.source !== source) {
          problems.push(`destination "${repo}" also receives the tags of "${earlier.source}" from key "${earlier.key}": tags of two sources would overwrite each other`);
        } else if (earlier && earlier.all && selection.kind === 'all' && !this.options.sameSourceOnce) {
          problems.push(`destination "${repo}" is also written by key "${earlier.key}" (all tags of the same source)`);
        } else if (!earlier) {
          this.whole.set(repo, { key: rule.key, source, all: selection.kind === 'all' });
        }
        continue;
      }
      const refs: { ref: string; sourceTag?: string; from: string }[] =
        selection.kind === 'tags'
          ? selection.tags.map((tag, i) => ({ ref: `${repo}:${destination.tags?.[i] ?? tag}`, sourceTag: tag, from: `${source}:${tag}` }))
          : destination.tags
            ? destination.tags.map((tag) => ({ ref: `${repo}:${tag}`, from: `${source}@${selection.digest}` }))
            : [{ ref: `${repo}@${selection.digest}`, from: `${source}@${selection.digest}` }];
      for (const { ref, sourceTag, from } of refs) {
        if (seenInRule.has(ref)) {
          if (!this.options.sameSourceOnce) problems.push(`destination "${ref}" is listed twice`);
          continue;
        }
        seenInRule.add(ref);
        const selfCopy = repo === source && (selection.kind === 'tags' ? ref === `${repo}:${sourceTag}` : !destination.tags);
        if (selfCopy) {
          problems.push(`destination "${ref}" is the source itself`);
          continue;
        }
        const earlier = this.exact.get(ref);
        if (earlier === undefined) this.exact.set(ref, { key: rule.key, from });
        else if (!(this.options.sameSourceOnce && earlier.from === from)) problems.push(`destination "${ref}" is also written by key "${earlier.key}"`);
      }
    }
    return problems;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Zod issues as messages

type Issue = z.core.$ZodIssue;

const UNION_MESSAGES: Record<string, string> = {
  tags: 'must be a list of tags (exact, or /regex/) or an object { "include", "exclude", "semver", "latest" }',
  flatten: 'must be "all", "none" or a number of path components to drop (1, 2, 3, …)',
};

function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`;
  return text;
}

/** A union issue narrowed to the branch whose type matched, when exactly one did. */
function describeIssue(issue: Issue, path: readonly PropertyKey[], value: unknown, allowedFields?: string): string[] {
  const field = path.length > 0 ? `"${fieldPath(path)}" ` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const names = issue.keys.map((k) => `"${k}"`).join(', ');
      const allowed = path.length === 0 ? allowedFields : undefined;
      return [`${field === '' ? '' : `${field}has `}unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${allowed ? ` (allowed: ${allowed})` : ''}`];
    }
    case 'invalid_type': {
      const hint = issue.expected === 'string' && typeof value === 'number' && path[0] === 'tags' ? ' (quote it: YAML reads 1.10 as the number 1.1)' : '';
      const expected = issue.expected === 'int' ? 'whole number' : issue.expected;
      return [`${field}must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}${hint}`];
    }
    case 'invalid_union': {
      const matched = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
      if (matched.length === 1) {
        return (matched[0] as Issue[]).flatMap((i) => describeIssue(i, [...path, ...i.path], valueAt(value, i.path), allowedFields));
      }
      const last = path[path.length - 1];
      return [`${field}${(typeof last === 'string' && UNION_MESSAGES[last]) || 'has an invalid value'}`];
    }
    case 'too_small':
      if (issue.origin === 'number') return [`${field}must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}`];
      if (issue.origin === 'string') return [`${field}must not be empty`];
      return [`${field}${issue.message}`];
    default:
      return [`${field}${issue.message}`];
  }
}

function fieldList(schema: { shape: object }): string {
  return Object.keys(schema.shape).join(', ');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------------------
// The mirror spec

const ImageListSchema = z.array(z.unknown());
// `images` and `registries` are checked entry by entry below, with messages naming the entry.
const TopSchema = MirrorSpecFileSchema.extend({ images: ImageListSchema, registries: z.unknown().optional() });

/** `images[2] (id "nginx")`: how messages and rules name an image of a mirror spec. */
export function mirrorSpecKey(index: number, id: string | undefined): string {
  return id === undefined ? `images[${index}]` : `images[${index}] (id "${id}")`;
}

/**
 * Rules from a parsed mirror spec. Throws `ConfigErrors` with every problem found (each names the file and the
 * image, `images[2] (id "nginx")`).
 */
export function parseMirrorSpec(value: unknown, file: string, options: ImagesFileOptions = {}): MirrorRule[] {
  const problems = new ProblemList(file);
  if (!isRecord(value)) {
    problems.add(undefined, 'a mirror spec is an object { "version": 1, "images": [ ... ] }');
    problems.throwIfAny();
  }
  const document = value as Record<string, unknown>;
  if (!('version' in document)) {
    problems.add(undefined, `"version" is missing: write "version": ${MIRROR_SPEC_VERSION}`);
    problems.throwIfAny();
  }
  if (document.version !== MIRROR_SPEC_VERSION) {
    problems.add(undefined, `mirror spec version ${JSON.stringify(document.version)} is not supported: this swr-sync reads version ${MIRROR_SPEC_VERSION}`);
    problems.throwIfAny();
  }

  const top = TopSchema.safeParse(document);
  if (!top.success) {
    for (const issue of top.error.issues) {
      for (const text of describeIssue(issue, issue.path, valueAt(document, issue.path), fieldList(TopSchema))) problems.add(undefined, text);
    }
    // Unknown top-level fields do not stop the images from being checked; images that are no list do.
    if (!Array.isArray(document.images)) problems.throwIfAny();
  }
  const images = document.images as unknown[];
  if (images.length === 0) problems.add(undefined, '"images" lists no images: nothing to copy');

  const env = options.env ?? process.env;
  for (const problem of parseRegistryLimits(document.registries, env).problems) problems.add(undefined, problem);
  const defaults = destinationDefaults(options);
  const tracker = new DestinationTracker();
  const ids = new Map<string, number>();
  const rules: MirrorRule[] = [];

  images.forEach((raw, index) => {
    const rawId = isRecord(raw) && typeof raw.id === 'string' && raw.id !== '' ? raw.id : undefined;
    const key = mirrorSpecKey(index, rawId);
    const add = (message: string): void => problems.add(key, message);
    const before = problems.size;

    const parsed = MirrorSpecImageSchema.safeParse(raw);
    if (!parsed.success) {
      if (!isRecord(raw)) add('must be an object { "source", "destination"?, "tags"?, "platforms"? }');
      else {
        for (const issue of parsed.error.issues) {
          for (const text of describeIssue(issue, issue.path, valueAt(raw, issue.path), fieldList(MirrorSpecImageSchema))) add(text);
        }
      }
      return;
    }
    const image = parsed.data;
    if (image.id !== undefined) {
      const twin = ids.get(image.id);
      if (twin !== undefined) add(`id "${image.id}" is also the id of images[${twin}]: ids are unique`);
      else ids.set(image.id, index);
    }
    const rule = imageRule(image, { file, key, env, defaults, add });
    if (rule === undefined || problems.size > before) return;
    for (const conflict of tracker.claim(rule)) add(conflict);
    rules.push(rule);
  });
  problems.throwIfAny();
  return rules;
}

interface ImageContext {
  readonly file: string;
  readonly key: string;
  readonly env: NodeJS.ProcessEnv;
  readonly defaults: DestinationDefaults;
  readonly add: (message: string) => void;
}

function expand(text: string, field: string, context: ImageContext): string | undefined {
  const result = tryExpandVariables(text, context.env);
  if ('problem' in result) {
    context.add(`"${field}": ${result.problem}`);
    return undefined;
  }
  return result.value;
}

function imageRule(image: MirrorSpecFileImage, context: ImageContext): MirrorRule | undefined {
  const { add } = context;
  let ok = true;
  const fail = (message: string): undefined => {
    add(message);
    ok = false;
    return undefined;
  };

  // source
  const sourceText = expand(image.source, 'source', context);
  if (sourceText === undefined) return undefined;
  const source = parseImageRef(sourceText, 'source');
  if (isProblem(source)) return fail(source.problem);
  if (source.regex !== undefined || (source.tags !== undefined && source.tags.length > 1)) {
    return fail(`source "${sourceText}" names several tags or a regex: list them in "tags"`);
  }

  // tags
  let selection: TagSelection | undefined;
  if (image.tags !== undefined) {
    if (source.tags !== undefined || source.digest !== undefined) {
      fail(`source "${sourceText}" must not have a tag or digest when "tags" is set`);
    } else {
      selection = tagsSelection(image.tags, fail);
    }
  } else {
    const fromSource = selectionOfSource(source, sourceText);
    if (isProblem(fromSource)) fail(fromSource.problem);
    else selection = fromSource;
  }

  // platforms
  let platforms: Platform[] | undefined;
  if (image.platforms !== undefined) {
    if (image.platforms.length === 0) fail('"platforms" lists no platform: omit it for every platform');
    else {
      platforms = [];
      image.platforms.forEach((p, i) => {
        try {
          platforms?.push(...parsePlatforms([p], `"platforms[${i}]"`));
        } catch (e) {
          if (!(e instanceof SwrSyncError)) throw e;
          fail(e.message);
        }
      });
    }
  }

  // destination
  let destination: RuleDestination | undefined;
  if (selection !== undefined) {
    const pinned = source.digest !== undefined ? source.tags : undefined;
    if (image.flatten !== undefined) {
      destination = flattenedDestination(image, source.repository, selection, pinned, context, fail);
    } else if (image.destination !== undefined) {
      const text = expand(image.destination, 'destination', context);
      if (text === undefined) ok = false;
      else {
        const ref = parseImageRef(text, 'destination');
        const result = isProblem(ref) ? ref : ruleDestination(selection, ref, text, pinned);
        if (isProblem(result)) fail(result.problem);
        else destination = result;
      }
    } else {
      const result = defaultDestination(context.defaults, lastComponent(source.repository), '"destination" is not set');
      if (isProblem(result)) fail(result.problem);
      else destination = pinned ? { ...result, tags: pinned } : result;
    }
  }

  if (!ok || selection === undefined || destination === undefined) return undefined;
  return {
    file: context.file,
    key: context.key,
    ...(image.id !== undefined ? { id: image.id } : {}),
    source: { registry: source.registry, repository: source.repository },
    selection,
    destinations: [destination],
    ...(platforms !== undefined ? { platforms } : {}),
    ...(image.referrers !== undefined ? { referrers: image.referrers } : {}),
  };
}

function tagsSelection(tags: NonNullable<MirrorSpecFileImage['tags']>, fail: (message: string) => undefined): TagSelection | undefined {
  let ok = true;
  const problem = (message: string): void => {
    fail(message);
    ok = false;
  };
  if (Array.isArray(tags)) {
    if (tags.length === 0) return fail('"tags" lists no tags: omit it for all tags');
    const exact: string[] = [];
    const patterns: TagPattern[] = [];
    tags.forEach((tag, i) => {
      const field = `"tags[${i}]"`;
      if (tags.indexOf(tag) !== i) return problem(`${field} "${tag}" is listed twice`);
      if (tag.length > 2 && tag.startsWith('/') && tag.endsWith('/')) {
        const re = compileTagRegex(tag.slice(1, -1), field);
        if (isProblem(re)) problem(re.problem);
        else patterns.push(re);
        return;
      }
      const bad = tagProblem(tag);
      if (bad) problem(`${field} "${tag}" is not a valid tag: ${bad} (write /regex/ for a regex)`);
      else exact.push(tag);
    });
    if (!ok) return undefined;
    if (patterns.length === 0) return { kind: 'tags', tags: exact };
    return { kind: 'filter', include: [...exact.map((t) => TagPattern.exact(t)), ...patterns], exclude: [] };
  }

  const compileAll = (list: readonly string[] | undefined, name: string): TagPattern[] =>
    (list ?? []).flatMap((source, i) => {
      const body = source.length > 2 && source.startsWith('/') && source.endsWith('/') ? source.slice(1, -1) : source;
      const re = compileTagRegex(body, `"tags.${name}[${i}]"`);
      if (isProblem(re)) {
        problem(re.problem);
        return [];
      }
      return [re];
    });
  const include = compileAll(tags.include, 'include');
  const exclude = compileAll(tags.exclude, 'exclude');
  if (tags.semver !== undefined && semver.validRange(tags.semver) === null) {
    problem(`"tags.semver" "${tags.semver}" is not a semver range (e.g. "^1.2", ">=2 <3", "~1.27.0")`);
  }
  if (!ok) return undefined;
  if (include.length === 0 && exclude.length === 0 && tags.semver === undefined && tags.latest === undefined) return { kind: 'all' };
  return {
    kind: 'filter',
    include,
    exclude,
    ...(tags.semver !== undefined ? { semver: tags.semver } : {}),
    ...(tags.latest !== undefined ? { latest: tags.latest } : {}),
  };
}

function flattenedDestination(
  image: MirrorSpecFileImage,
  sourceRepository: string,
  selection: TagSelection,
  pinned: readonly string[] | undefined,
  context: ImageContext,
  fail: (message: string) => undefined,
): RuleDestination | undefined {
  const flatten = image.flatten as 'all' | 'none' | number;
  const components = sourceRepository.split('/');
  const kept =
    flatten === 'all' ? components.slice(-1) : flatten === 'none' ? components : components.slice(Math.min(flatten, components.length - 1));
  const path = kept.join('/');

  if (image.destination === undefined) {
    const result = defaultDestination(context.defaults, path, '"destination" is not set');
    if (isProblem(result)) return fail(result.problem);
    return pinned ? { ...result, tags: pinned } : result;
  }
  const written = expand(image.destination, 'destination', context);
  if (written === undefined) return undefined;
  const base = written.replace(/\/+$/, '');
  const slash = base.indexOf('/');
  const host = slash < 0 ? base : base.slice(0, slash);
  if (base === '' || !isRegistryComponent(host)) {
    return fail(`destination "${written}" must be registry[/namespace] when "flatten" is set, e.g. swr.cn-north-4.myhuaweicloud.com/<namespace> (rule 3)`);
  }
  if (slash >= 0 && /[:@]/.test(base.slice(slash))) {
    return fail(`destination "${written}" must not have a tag or digest when "flatten" is set: it is registry[/namespace]`);
  }
  const text = `${base}/${path}`;
  const ref = parseImageRef(text, 'destination');
  const result = isProblem(ref) ? ref : ruleDestination(selection, ref, text, pinned);
  if (isProblem(result)) return fail(result.problem);
  return result;
}
