import type { ImageStore } from '../store/image-store.js';
import type { MirrorRule, RuleDestination } from '../config/mirror-rule.js';
import { needsTagList, selectTags } from '../config/tag-selection.js';
import { describeError, isSwrSyncError } from '../errors.js';
import { Limiter } from '../util/limiter.js';
import { HTTP2_STREAMS_PER_CONNECTION } from '../defaults.js';
import type { Platform } from '../oci/platform.js';
import { Reference, tagProblem } from '../oci/reference.js';
import type { ExpandedJob, GenerateFailure, ImageTask, RuleOrigin } from './image-task.js';

export interface ExpandOptions {
  /** Platform filter for rules that set none (the CLI's `--platform`). */
  readonly platforms?: readonly Platform[];
  /** Copy referrers for rules that do not say (the CLI's `--with-referrers`). */
  readonly referrers?: boolean;
  /**
   * Tag lists fetched at once: the client's connections per host, so a run of many repositories lists them in as
   * few round trips as the connection budget allows (what counts across regions): an HTTP/2 connection's streams, or
   * the HTTP/1.1 connections (the rest wait in the pool). @default 100
   */
  readonly concurrency?: number;
  /** Called with each rule's tasks as soon as they are known (its tag list arrived), before the others finish. */
  readonly onTasks?: (tasks: readonly ImageTask[]) => void;
}

/**
 * Rules → image tasks: exact tags and digests need no request; "all tags" and tag filters list the source
 * repository's tags (one paginated GET per repository, never a manifest GET). A rule whose tags cannot be listed
 * is a generate failure; the others go on.
 */
export async function expandRules(
  rules: readonly MirrorRule[],
  source: ImageStore,
  options: ExpandOptions = {},
): Promise<ExpandedJob> {
  const limiter = new Limiter(options.concurrency ?? HTTP2_STREAMS_PER_CONNECTION);
  const tasks: ImageTask[][] = [];
  const failures: GenerateFailure[] = [];
  const warnings: string[] = [];
  await Promise.all(
    rules.map(async (rule, i) => {
      const origin: RuleOrigin = { file: rule.file, key: rule.key, ...(rule.id !== undefined ? { id: rule.id } : {}) };
      const src = new Reference(rule.source.registry, rule.source.repository).name;
      try {
        const platforms = rule.platforms ?? options.platforms;
        const referrers = rule.referrers ?? options.referrers ?? false;
        const make = (sourceRef: Reference, destination: Reference): ImageTask => ({
          rule: origin,
          source: sourceRef,
          destination,
          ...(platforms ? { platforms } : {}),
          ...(referrers ? { referrers } : {}),
        });
        const selection = rule.selection;
        if (selection.kind === 'digest') {
          const sourceRef = new Reference(rule.source.registry, rule.source.repository, undefined, selection.digest);
          tasks[i] = rule.destinations.map((d) => make(sourceRef, destinationRef(d, undefined, 0, selection.digest)));
          options.onTasks?.(tasks[i]!);
          return;
        }
        let tags: readonly string[];
        if (selection.kind === 'tags') {
          tags = selection.tags;
        } else {
          const listed = await limiter.run(() => source.listTags(rule.source.registry, rule.source.repository));
          // A tag list comes from the registry: a name outside the tag grammar (a line break, an escape sequence, a
          // `::` workflow command) is never copied, written or printed as it is (docs/security.md).
          const invalid = listed.filter((tag) => tagProblem(tag) !== undefined);
          const available = invalid.length === 0 ? listed : listed.filter((tag) => tagProblem(tag) === undefined);
          if (invalid.length > 0) {
            warnings.push(
              `${rule.file}: "${rule.key}": ${invalid.length} of the ${listed.length} tags ${src} lists are not valid tag names and were left out (first: ${JSON.stringify(invalid[0]!.slice(0, 80))})`,
            );
          }
          if (available.length === 0) {
            failures.push({
              rule: origin,
              source: src,
              error: { code: 'ERR_NOT_FOUND', message: `source repository ${src} has no tags (or does not exist)` },
            });
            return;
          }
          tags = needsTagList(selection) ? selectTags(selection, available) : available;
          if (tags.length === 0)
            warnings.push(
              `${rule.file}: "${rule.key}": no tag of ${src} matches the rule's tag filter (${available.length} tags listed)`,
            );
        }
        tasks[i] = tags.flatMap((tag, position) =>
          rule.destinations.map((d) =>
            make(
              new Reference(rule.source.registry, rule.source.repository, tag, undefined),
              destinationRef(d, tag, position),
            ),
          ),
        );
        options.onTasks?.(tasks[i]!);
      } catch (error) {
        failures.push({
          rule: origin,
          source: src,
          error: { code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED', message: describeError(error) },
        });
      }
    }),
  );
  return { tasks: tasks.flatMap((t) => t ?? []), failures, warnings };
}

/** Destination tag: renamed by position (image-syncer), else the source tag; a digest-only source keeps its digest. */
function destinationRef(
  d: RuleDestination,
  sourceTag: string | undefined,
  position: number,
  digest?: string,
): Reference {
  const tag = d.tags ? (d.tags.length === 1 ? d.tags[0] : d.tags[position]) : sourceTag;
  return new Reference(d.registry, d.repository, tag, tag === undefined ? digest : undefined);
}
