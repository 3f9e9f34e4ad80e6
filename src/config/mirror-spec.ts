import semver from 'semver';
import { z } from 'zod';
import { SwrSyncError } from '../errors.js';
import { parsePlatforms, type Platform } from '../oci/platform.js';
import { tagProblem } from '../oci/reference.js';
import type { MirrorRule, RuleDestination, TagSelection } from './mirror-rule.js';
import { MirrorSpecRegistriesSchema, parseRegistryLimits } from './registry-limits.js';
import { isRecord, ProblemList, tryExpandVariables } from './parse-text.js';
import { TagPattern } from './tag-pattern.js';
import { describeIssue, fieldList, valueAt, type Issue } from './zod-issues.js';
import {
  defaultDestination,
  destinationDefaults,
  DestinationTracker,
  lastComponent,
  type DestinationDefaults,
  type ImagesFileOptions,
} from './destinations.js';
import {
  compileTagRegex,
  isProblem,
  isRegistryComponent,
  parseImageRef,
  ruleDestination,
  selectionOfSource,
} from './image-ref.js';

/**
 * The mirror spec, `swr-mirror.json` (docs/file-formats.md): written by the constructs at synth, read by `swr-sync --images`,
 * also fine to write by hand (JSON or YAML). The parts both rule formats share live in image-ref.ts (references)
 * and destinations.ts (rule 8 defaults, conflicting destinations); image-migrator's images.json is images-file.ts.
 *
 * ```
 * { "version": 1, "stack"?: "...", "images": [ {
 *     "id"?: "nginx",                          // unique; names the image in messages and results
 *     "source": "docker.io/library/nginx",     // a tag or digest here copies that one tag or digest
 *     "destination"?: "swr.../ns/nginx",       // default: <registry>/<namespace>/<last component> (rule 8)
 *     "tags"?: ["1.27", "/^1\\.28\\./"] | { "include"?, "exclude"?, "semver"?, "latest"? },
 *     "platforms"?: ["linux/amd64"],
 *     "flatten"?: "all" | "none" | N,        // destination is registry[/namespace]; see below
 *     "referrers"?: true                      // also signatures, attestations, SBOMs (plan/referrers.ts)
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
/** Whether a parsed document is a mirror spec rather than an images.json map. */
export function looksLikeMirrorSpec(document: unknown): boolean {
  return isRecord(document) && 'version' in document && 'images' in document;
}

/** What a union field accepts, for messages when no branch matched. */
const UNION_MESSAGES: Record<string, string> = {
  tags: 'must be a list of tags (exact, or /regex/) or an object { "include", "exclude", "semver", "latest" }',
  flatten: 'must be "all", "none" or a number of path components to drop (1, 2, 3, …)',
};

/** A tag YAML read as a number: `1.10` is the number 1.1 unless quoted. */
function yamlNumberHint(issue: Issue, path: readonly PropertyKey[], value: unknown): string {
  return issue.code === 'invalid_type' && issue.expected === 'string' && typeof value === 'number' && path[0] === 'tags'
    ? ' (quote it: YAML reads 1.10 as the number 1.1)'
    : '';
}

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
    problems.add(
      undefined,
      `mirror spec version ${JSON.stringify(document.version)} is not supported: this swr-sync reads version ${MIRROR_SPEC_VERSION}`,
    );
    problems.throwIfAny();
  }

  const top = TopSchema.safeParse(document);
  if (!top.success) {
    for (const issue of top.error.issues) {
      for (const text of describeIssue(issue, {
        value: valueAt(document, issue.path),
        allowedFields: fieldList(TopSchema),
        unionMessages: UNION_MESSAGES,
        hint: yamlNumberHint,
      }))
        problems.add(undefined, text);
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
          for (const text of describeIssue(issue, {
            value: valueAt(raw, issue.path),
            allowedFields: fieldList(MirrorSpecImageSchema),
            unionMessages: UNION_MESSAGES,
            hint: yamlNumberHint,
          }))
            add(text);
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

function tagsSelection(
  tags: NonNullable<MirrorSpecFileImage['tags']>,
  fail: (message: string) => undefined,
): TagSelection | undefined {
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
  if (include.length === 0 && exclude.length === 0 && tags.semver === undefined && tags.latest === undefined)
    return { kind: 'all' };
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
    flatten === 'all'
      ? components.slice(-1)
      : flatten === 'none'
        ? components
        : components.slice(Math.min(flatten, components.length - 1));
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
    return fail(
      `destination "${written}" must be registry[/namespace] when "flatten" is set, e.g. swr.cn-north-4.myhuaweicloud.com/<namespace> (rule 3)`,
    );
  }
  if (slash >= 0 && /[:@]/.test(base.slice(slash))) {
    return fail(
      `destination "${written}" must not have a tag or digest when "flatten" is set: it is registry[/namespace]`,
    );
  }
  const text = `${base}/${path}`;
  const ref = parseImageRef(text, 'destination');
  const result = isProblem(ref) ? ref : ruleDestination(selection, ref, text, pinned);
  if (isProblem(result)) return fail(result.problem);
  return result;
}
