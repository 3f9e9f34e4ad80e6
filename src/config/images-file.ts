import type { HostLimits } from './registry-limits.js';
import { ConfigError, ConfigErrors } from '../errors.js';
import type { MirrorRule, RuleDestination } from './mirror-rule.js';
import { defaultDestination, destinationDefaults, DestinationTracker, type ImagesFileOptions } from './destinations.js';
import { parseImageRef, ruleDestination, selectionOfSource } from './image-ref.js';
import { looksLikeMirrorSpec, parseMirrorSpec } from './mirror-spec.js';
import {
  isRecord,
  parseDocument,
  parseGoDocument,
  ProblemList,
  readConfigFile,
  tryExpandVariables,
} from './parse-text.js';
import { parseRegistryLimits } from './registry-limits.js';

export type { ImagesFileOptions } from './destinations.js';

/**
 * `--images`: image-migrator's / image-syncer's images file, or a mirror spec (swr-mirror.json, see
 * mirror-spec.ts), in JSON or YAML (chosen by content).
 *
 * The images file maps a source to a destination, a list of destinations (fan-out), or "" / null (rule 8):
 *
 * ```
 * { "quay.io/coreos/etcd:1.0.0": "swr.cn-north-4.myhuaweicloud.com/test/etcd:1.0.0",
 *   "quay.io/coreos/etcd": "swr.cn-north-4.myhuaweicloud.com/test/etcd",
 *   "quay.io/coreos/etcd:2.7.3": "" }
 * ```
 *
 * image-migrator's eight rules, each reported with its number:
 *  1. a rule copies at most one repository (a key naming only a registry, ending with "/" or holding "*" is an error);
 *  2. sources and destinations follow `registry/namespace/repository[:tag]` (distribution's reference grammar);
 *  3. a non-empty destination names at least a registry and a repository;
 *  4. the source (key) is never empty;
 *  5. the destination repository may have another name than the source;
 *  6. a source without a tag copies every tag, and the destination then has no tag;
 *  7. a source tag copies that one tag, under the destination's tag if it has one;
 *  8. an empty destination is `<registry>/<namespace>/<repository>` with the source's tag, registry and namespace
 *     from `--registry` / `--namespace` or DEFAULT_REGISTRY / DEFAULT_NAMESPACE, where `<repository>` is the source
 *     path after its first component (its namespace), as image-migrator and image-syncer v1.x split
 *     `registry/namespace/repository`: `gcr.io/knative-releases/github.com/knative/build/cmd/creds-init:v1` goes to
 *     `<registry>/<namespace>/github.com/knative/build/cmd/creds-init:v1` (rule8Path).
 *
 * Extensions, from image-syncer: a list of destinations; tag lists `repo:a,b` (a destination tag list renames by
 * position and must have as many tags); a tag regex `repo:/regex/` (unanchored, RE2 syntax as Go reads it; the
 * destination has no tag); a digest `repo@sha256:…` (the destination may have tags; `repo:tag@sha256:…` copies the
 * digest and writes `tag` at the destination unless the destination names its own); `${VAR}` / `$VAR` in keys and
 * destinations. And: a source without a registry is on Docker Hub (`nginx` = `docker.io/library/nginx`), and
 * `registry/repository` without a namespace is accepted on either side.
 *
 * A destination written by two rules (or twice by one), or one that is its own source, is an error naming both
 * keys. Every problem of the file is collected and thrown as one `ConfigErrors`.
 */

/**
 * Reads and parses `file`. A missing or unreadable file throws `ConfigError` (code ERR_CONFIG_READ); any problem
 * in its content throws `ConfigErrors` (code ERR_INVALID_CONFIG) listing all of them.
 */
export async function loadImagesFile(file: string, options: ImagesFileOptions = {}): Promise<MirrorRule[]> {
  return parseImagesFile(await readConfigFile(file), file, options);
}

/** `loadImagesFile`, plus a mirror spec's per-registry limits (`registries`; none for images.json). */
export async function loadImagesFileWithLimits(
  file: string,
  options: ImagesFileOptions = {},
): Promise<{ rules: MirrorRule[]; limits: Map<string, HostLimits> }> {
  const text = await readConfigFile(file);
  const rules = parseImagesFile(text, file, options);
  // The text parsed without problems above, `registries` included.
  const document = parseDocument(text, file);
  const limits = looksLikeMirrorSpec(document)
    ? parseRegistryLimits((document as { registries?: unknown }).registries, options.env ?? process.env).limits
    : new Map<string, HostLimits>();
  return { rules, limits };
}

/**
 * image-syncer's legacy `--config` file (before v1.2): `{ "auth": { ... }, "images": { ... } }` in one file, JSON or
 * YAML. Returns the two parts as parsed documents; `auth` may be absent (anonymous access everywhere).
 */
export async function loadLegacyConfig(
  file: string,
  options: { readonly strict?: boolean } = {},
): Promise<{ auth: unknown; authRaw: unknown; images: unknown; warnings: readonly string[] }> {
  const text = await readConfigFile(file);
  let document: unknown;
  let raw: unknown;
  let warnings: readonly string[] = [];
  try {
    if (options.strict) document = raw = parseDocument(text, file, { uniqueKeys: true });
    else ({ value: document, raw, warnings } = parseGoDocument(text, file));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigErrors([e], { file });
    throw e;
  }
  const problems = new ProblemList(file);
  if (!isRecord(document) || !('images' in document)) {
    problems.add(
      undefined,
      'an image-syncer --config file is an object { "auth": { ... }, "images": { ... } }; "images" is missing',
    );
    problems.throwIfAny();
  }
  const { auth, images, ...rest } = document as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.add(key, 'is not a field of an image-syncer --config file (allowed: auth, images)');
  problems.throwIfAny();
  return { auth: auth ?? {}, authRaw: isRecord(raw) ? raw.auth : undefined, images, warnings };
}

/** `file` names the text in messages. Throws `ConfigErrors` listing every problem. */
export function parseImagesFile(text: string, file: string, options: ImagesFileOptions = {}): MirrorRule[] {
  let document: unknown;
  try {
    document = parseDocument(text, file, { uniqueKeys: true });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigErrors([e], { file });
    throw e;
  }
  if (looksLikeMirrorSpec(document)) return parseMirrorSpec(document, file, options);
  return parseImagesMap(document, file, options);
}

/** Rules from a parsed images.json map (image-migrator / image-syncer). Throws `ConfigErrors` listing every problem. */
export function parseImagesMap(document: unknown, file: string, options: ImagesFileOptions = {}): MirrorRule[] {
  const { rules, problems } = collectImagesMap(document, file, options, false);
  problems.throwIfAny();
  return rules;
}

/** A rule of an images file that was skipped because it is invalid (outside `--strict`). */
export interface InvalidRule {
  readonly file: string;
  readonly key: string;
  /** Every problem of the rule, each naming the rule it breaks. */
  readonly problems: readonly ConfigError[];
}

/** An images file read as image-syncer and image-migrator read it (see readImagesFile). */
export interface ImagesFileRead {
  readonly rules: MirrorRule[];
  readonly limits: Map<string, HostLimits>;
  /** Invalid rules, skipped: each becomes a generate failure of the run. */
  readonly invalid: InvalidRule[];
  readonly warnings: string[];
}

/**
 * Reads an images file. With `strict`, any problem fails the whole file (`ConfigErrors`, nothing copied). Without
 * it, an images.json map is read as image-migrator and image-syncer read it: JSON or YAML 1.1 (parseGoDocument), a
 * key written twice keeps its last value, repeated destinations of one source are copied once, and an invalid rule
 * is returned in `invalid` while the others are copied. Problems of the whole file (unreadable, not a map, no
 * rules) always throw, as they stop the Go tools too. A mirror spec is always read strictly: it is code under review.
 */
export async function readImagesFile(
  file: string,
  options: ImagesFileOptions & { readonly strict?: boolean } = {},
): Promise<ImagesFileRead> {
  if (options.strict) return { ...(await loadImagesFileWithLimits(file, options)), invalid: [], warnings: [] };
  const text = await readConfigFile(file);
  let go;
  try {
    go = parseGoDocument(text, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigErrors([e], { file });
    throw e;
  }
  if (looksLikeMirrorSpec(go.value))
    return { ...(await loadImagesFileWithLimits(file, options)), invalid: [], warnings: [] };
  return { ...lenientImagesMap(go.value, file, options), limits: new Map(), warnings: [...go.warnings] };
}

/** `parseImagesMap` outside `--strict`: invalid rules are returned, not thrown (problems of the whole file are). */
export function lenientImagesMap(
  document: unknown,
  file: string,
  options: ImagesFileOptions = {},
): { rules: MirrorRule[]; invalid: InvalidRule[] } {
  const { rules, problems } = collectImagesMap(document, file, options, true);
  const whole = problems.problems.filter((p) => p.key === undefined);
  if (whole.length > 0) throw new ConfigErrors(whole, { file });
  const byKey = new Map<string, ConfigError[]>();
  for (const p of problems.problems) {
    const list = byKey.get(p.key!);
    if (list) list.push(p);
    else byKey.set(p.key!, [p]);
  }
  return { rules, invalid: [...byKey].map(([key, list]) => ({ file, key, problems: list })) };
}

/**
 * Rule 8's repository: the source path after its namespace, as image-migrator and image-syncer v1.x split
 * `registry/namespace/repository` (a path of one component is kept whole).
 */
export function rule8Path(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(slash + 1);
}

function collectImagesMap(
  document: unknown,
  file: string,
  options: ImagesFileOptions,
  sameSourceOnce: boolean,
): { rules: MirrorRule[]; problems: ProblemList } {
  const problems = new ProblemList(file);
  const done = () => ({ rules: [], problems });
  if (document === null || document === undefined || (isRecord(document) && Object.keys(document).length === 0)) {
    problems.add(undefined, 'no images: the file maps no source to a destination');
    return done();
  }
  if (!isRecord(document)) {
    problems.add(
      undefined,
      'must be an object mapping each source "registry/namespace/repository[:tag]" to a destination',
    );
    return done();
  }
  const map = document as Record<string, unknown>;
  if (isRecord(map.images) && Object.keys(map).every((k) => k === 'images' || k === 'auth')) {
    problems.add(
      undefined,
      "looks like image-syncer's legacy --config file (auth and images together): pass it with --config instead of --images",
    );
    return done();
  }

  const env = options.env ?? process.env;
  const defaults = destinationDefaults(options);
  const tracker = new DestinationTracker({ sameSourceOnce });
  const rules: MirrorRule[] = [];

  for (const [key, value] of Object.entries(map)) {
    const add = (message: string): void => problems.add(key, message);
    const before = problems.size;

    // Rule 4, then ${VAR}, then rules 1 and 2 on the source.
    if (key.trim() === '') {
      add('the source is empty: each key names a source repository (rule 4)');
      continue;
    }
    const expandedKey = tryExpandVariables(key, env);
    if ('problem' in expandedKey) {
      add(`source: ${expandedKey.problem}`);
      continue;
    }
    const sourceText = expandedKey.value;
    const source = parseImageRef(sourceText, 'source');
    if ('problem' in source) {
      add(source.problem);
      continue;
    }
    const selection = selectionOfSource(source, sourceText);
    if ('problem' in selection) {
      add(selection.problem);
      continue;
    }
    const pinned = source.digest !== undefined ? source.tags : undefined;

    // The destinations: a string, "" / null (rule 8), or a list of those.
    let written: unknown[];
    if (Array.isArray(value)) {
      written = value;
      if (written.length === 0) add('lists no destinations: give one, or "" for the default (rule 8)');
    } else {
      written = [value];
    }
    const destinations: RuleDestination[] = [];
    written.forEach((raw, i) => {
      const where = Array.isArray(value) ? `destination [${i}]` : 'destination';
      if (raw !== null && raw !== undefined && typeof raw !== 'string') {
        add(
          `${where} must be a string "registry/namespace/repository[:tag]", "" for the default (rule 8)${Array.isArray(value) ? '' : ', or a list of them'}`,
        );
        return;
      }
      let text = raw ?? '';
      if (text !== '') {
        const expanded = tryExpandVariables(text, env);
        if ('problem' in expanded) {
          add(`${where}: ${expanded.problem}`);
          return;
        }
        text = expanded.value;
      }
      if (text === '') {
        const result = defaultDestination(defaults, rule8Path(source.repository), `${where} is empty`);
        if ('problem' in result) add(result.problem);
        else destinations.push(pinned ? { ...result, tags: pinned } : result);
        return;
      }
      const ref = parseImageRef(text, 'destination');
      const result = 'problem' in ref ? ref : ruleDestination(selection, ref, text, pinned);
      if ('problem' in result) add(result.problem);
      else destinations.push(result);
    });
    if (problems.size > before) continue;

    const rule: MirrorRule = {
      file,
      key,
      source: { registry: source.registry, repository: source.repository },
      selection,
      destinations,
    };
    for (const conflict of tracker.claim(rule)) add(conflict);
    if (problems.size === before) rules.push(rule);
  }
  return { rules, problems };
}
