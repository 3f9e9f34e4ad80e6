import { Reference } from '../oci/reference.js';
import type { MirrorRule } from './mirror-rule.js';
import { isProblem, isRegistryComponent, parseImageRef, type Problem } from './image-ref.js';

/**
 * Where rules write, shared by both rule formats: image-migrator's rule 8 defaults (`<registry>/<namespace>/<name>`
 * from `--registry`/`--namespace` or DEFAULT_REGISTRY/DEFAULT_NAMESPACE) and two rules that write one destination.
 */

/** Options for both rule formats. */
export interface ImagesFileOptions {
  /** Default destination registry for rule 8 (`--registry`). @default env.DEFAULT_REGISTRY */
  readonly registry?: string;
  /** Default destination namespace for rule 8 (`--namespace`). @default env.DEFAULT_NAMESPACE */
  readonly namespace?: string;
  /** For `${VAR}` / `$VAR` and the DEFAULT_* fallbacks. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

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
export function defaultDestination(
  defaults: DestinationDefaults,
  path: string,
  why: string,
): { registry: string; repository: string } | Problem {
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
    return {
      problem: `${why}, so it defaults to ${text} (rule 8), but the default registry or namespace (--registry/--namespace, DEFAULT_REGISTRY/DEFAULT_NAMESPACE) is invalid: ${reason}`,
    };
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
          problems.push(
            `destination "${repo}" also receives the tags of "${earlier.source}" from key "${earlier.key}": tags of two sources would overwrite each other`,
          );
        } else if (earlier && earlier.all && selection.kind === 'all' && !this.options.sameSourceOnce) {
          problems.push(`destination "${repo}" is also written by key "${earlier.key}" (all tags of the same source)`);
        } else if (!earlier) {
          this.whole.set(repo, { key: rule.key, source, all: selection.kind === 'all' });
        }
        continue;
      }
      const refs: { ref: string; sourceTag?: string; from: string }[] =
        selection.kind === 'tags'
          ? selection.tags.map((tag, i) => ({
              ref: `${repo}:${destination.tags?.[i] ?? tag}`,
              sourceTag: tag,
              from: `${source}:${tag}`,
            }))
          : destination.tags
            ? destination.tags.map((tag) => ({ ref: `${repo}:${tag}`, from: `${source}@${selection.digest}` }))
            : [{ ref: `${repo}@${selection.digest}`, from: `${source}@${selection.digest}` }];
      for (const { ref, sourceTag, from } of refs) {
        if (seenInRule.has(ref)) {
          if (!this.options.sameSourceOnce) problems.push(`destination "${ref}" is listed twice`);
          continue;
        }
        seenInRule.add(ref);
        const selfCopy =
          repo === source && (selection.kind === 'tags' ? ref === `${repo}:${sourceTag}` : !destination.tags);
        if (selfCopy) {
          problems.push(`destination "${ref}" is the source itself`);
          continue;
        }
        const earlier = this.exact.get(ref);
        if (earlier === undefined) this.exact.set(ref, { key: rule.key, from });
        else if (!(this.options.sameSourceOnce && earlier.from === from))
          problems.push(`destination "${ref}" is also written by key "${earlier.key}"`);
      }
    }
    return problems;
  }
}
