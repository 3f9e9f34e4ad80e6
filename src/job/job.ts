import { setMaxListeners } from 'node:events';
import { RegistryLimiter } from '../client/rate-limit.js';
import { applyArchiveOutcomes } from '../results/archive-outcomes.js';
import { Transport, type RegistryClient } from '../client/registry-client.js';
import { StoreRouter } from '../store/store-router.js';
import { authJsonFromDocument, loadAuthJson } from '../config/auth-json.js';
import { chainCredentialSources, type CredentialSource } from '../config/credentials.js';
import { loadDefaultDockerConfig } from '../config/docker-config.js';
import {
  lenientImagesMap,
  loadLegacyConfig,
  parseImagesMap,
  readImagesFile,
  type ImagesFileOptions,
  type ImagesFileRead,
} from '../config/images-file.js';
import type { MirrorRule } from '../config/mirror-rule.js';
import { mergeRegistryLimits } from '../config/registry-limits.js';
import { CopyEngine, firstCheckRequest } from '../engine/copy-engine.js';
import { ReferrerCopier } from '../engine/referrer-copier.js';
import { planReferrersOf } from '../plan/referrers.js';
import { copyOptionsOf, runTasks } from '../engine/sync-runner.js';
import { isLayoutRegistry, parseReference, Reference } from '../oci/reference.js';
import { expandRules } from '../plan/expand.js';
import type { ExpandedJob, GenerateFailure, ImageTask } from '../plan/image-task.js';
import { planTasks, removedFromLock } from '../plan/planner.js';
import { inShard } from '../plan/shard.js';
import type { ImageResult } from '../engine/image-result.js';
import { readLockFile, updateLock, writeLockFile, type LockEntry, type LockFile } from '../plan/lock-file.js';
import type { PlanReport } from '../results/plan-report.js';
import { summarize, type RunSummary } from '../results/run-summary.js';
import type { JobConfig } from './job-config.js';
import { abortReason } from '../engine/sync-runner.js';
import { DEFAULT_RETRIES, DEFAULT_WORKERS } from '../defaults.js';
import { deadlineSignal } from '../errors.js';

/** A loaded, validated job with its stores (registries and OCI layouts); `close()` releases the connections. */
export interface Job {
  readonly config: JobConfig;
  /** The rules of this shard. */
  readonly rules: readonly MirrorRule[];
  readonly credentials: CredentialSource;
  readonly lock: LockFile | undefined;
  readonly source: StoreRouter;
  /** Its `finish()` writes the run's oci-archive destinations. */
  readonly destination: StoreRouter;
  readonly expanded: ExpandedJob;
  close(): Promise<void>;
}

/** Progress callbacks of `syncJob`. */
export interface SyncHooks {
  readonly onStart?: (task: ImageTask) => void;
  readonly onResult?: (task: ImageTask, result: ImageResult) => void;
  readonly onBytes?: (bytes: number) => void;
}

/** The result of `syncJob`: per-image results, the summary, and the lock written. */
export interface SyncOutcome {
  readonly results: readonly ImageResult[];
  readonly summary: RunSummary;
  /** The lock written, when the job has a lock file. */
  readonly lock?: LockFile;
}

/**
 * Reads and validates every input (auth.json, images files, lock file) before any request, so invalid input fails
 * with nothing sent; then turns rules into image tasks (tag lists are read here).
 */
export async function openJob(config: JobConfig): Promise<Job> {
  const env = config.env ?? process.env;
  const ruleOptions = {
    ...(config.registry !== undefined ? { registry: config.registry } : {}),
    ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
    env,
  };
  const legacy =
    config.legacyConfig !== undefined
      ? await loadLegacyConfig(config.legacyConfig, { strict: config.strict ?? false })
      : undefined;
  const [authJson, dockerConfig, imageFiles, lock] = await Promise.all([
    legacy
      ? authJsonFromDocument(
          legacy.auth,
          config.legacyConfig!,
          env,
          config.strict ? undefined : { raw: legacy.authRaw, warnings: legacy.warnings },
        )
      : config.auth
        ? loadAuthJson(config.auth, env, {
            strict: config.strict ?? false,
            ...(config.authLabel ? { label: config.authLabel } : {}),
          })
        : undefined,
    loadDefaultDockerConfig(env),
    Promise.all([
      ...config.images.map((file) => readImagesFile(file, { ...ruleOptions, strict: config.strict ?? false })),
      ...(legacy ? [legacyImages(legacy.images, config.legacyConfig!, ruleOptions, config.strict ?? false)] : []),
    ]),
    config.lockFile ? readLockFile(config.lockFile) : undefined,
  ]);
  const credentials = chainCredentialSources(
    ...[authJson, dockerConfig].filter((s): s is NonNullable<typeof s> => s !== undefined),
  );
  const rules = imageFiles
    .flatMap((f) => f.rules)
    .filter((r) => inShard(new Reference(r.source.registry, r.source.repository).name, config.shard));
  const transport = new Transport({
    ...(config.stallTimeoutMs !== undefined ? { stallTimeoutMs: config.stallTimeoutMs } : {}),
    ...(config.http2 === false ? { http2: false } : {}),
  });
  // One limiter for both clients: a registry that is source and destination is limited once. Pacing starts while at
  // least one request per worker is still left, so requests already in flight cannot overdraw the quota.
  const limiter = new RegistryLimiter({
    defaults: {
      ...(config.rate !== undefined ? { rate: config.rate } : {}),
      ...(config.bandwidth !== undefined ? { bandwidth: config.bandwidth } : {}),
    },
    hosts: mergeRegistryLimits(imageFiles.map((f) => f.limits)),
    paceThreshold: Math.max(config.workers ?? DEFAULT_WORKERS, 1),
  });
  const common = {
    credentials,
    transport,
    limiter,
    retry: { retries: config.retries ?? DEFAULT_RETRIES },
    ...(runSignal(config) ? { signal: runSignal(config)! } : {}),
  };
  const source = StoreRouter.open('source', common);
  const destination = StoreRouter.open('destination', common);
  announceRepositories(rules, source.registries, destination.registries);
  try {
    const expanded = await expandRules(rules, source, {
      ...(config.platforms ? { platforms: config.platforms } : {}),
      ...(config.withReferrers ? { referrers: true } : {}),
      ...(config.checkAhead ? { onTasks: checkAhead(config, lock, source, destination) } : {}),
    });
    // Invalid rules skipped outside --strict are generate failures, as image-migrator counts them.
    const invalid = imageFiles
      .flatMap((f) => f.invalid)
      .map((r): GenerateFailure => ({
        rule: { file: r.file, key: r.key },
        source: r.key,
        // The failure is reported under its file and key already: the message is the problem alone.
        error: {
          code: 'ERR_INVALID_CONFIG',
          message: r.problems.map((p) => p.message.replace(`${r.file}, key "${r.key}": `, '')).join('; '),
        },
      }));
    const loaded = {
      ...expanded,
      failures: [...invalid, ...expanded.failures],
      warnings: [...imageFiles.flatMap((f) => f.warnings), ...(authJson?.warnings ?? []), ...expanded.warnings],
    };
    return {
      config,
      rules,
      credentials,
      lock,
      source,
      destination,
      expanded: dedupeTasks(loaded),
      close: async () => {
        await destination.discard();
        await transport.close();
      },
    };
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/**
 * Sends each image's first check request ahead, as `syncJob` (`firstCheckRequest`) or `planJob` (the source HEAD,
 * see planTasks) will make it, so a run's tag lists and checks overlap instead of taking a round trip each.
 */
function checkAhead(
  config: JobConfig,
  lock: LockFile | undefined,
  source: StoreRouter,
  destination: StoreRouter,
): (tasks: readonly ImageTask[]) => void {
  const vouched = lockedFor(config, lock);
  return (tasks) => {
    for (const task of tasks) {
      const { source: src, destination: dst } = task;
      if (config.checkAhead === 'plan') {
        source.prefetchManifestHead(src.registry, src.repository, src.ref);
        continue;
      }
      const first = firstCheckRequest(src, dst, copyOptionsOf(task, vouched));
      if (first)
        (first.side === 'source' ? source : destination).prefetchManifestHead(
          first.registry,
          first.repository,
          first.ref,
          first.access,
        );
    }
  };
}

/** The `images` part of image-syncer's legacy `--config` file, read like an images file. */
function legacyImages(images: unknown, file: string, options: ImagesFileOptions, strict: boolean): ImagesFileRead {
  if (strict) return { rules: parseImagesMap(images, file, options), limits: new Map(), invalid: [], warnings: [] };
  return { ...lenientImagesMap(images, file, options), limits: new Map(), warnings: [] };
}

/** The run's cancellation: the caller's signal, the `--timeout`, or the first of both. */
const runSignals = new WeakMap<JobConfig, AbortSignal | undefined>();
function runSignal(config: JobConfig): AbortSignal | undefined {
  if (!runSignals.has(config)) {
    const signal =
      config.timeoutMs === undefined
        ? config.signal
        : deadlineSignal(config.signal, config.timeoutMs, config.timeoutSetBy ?? '--timeout');
    // Every request of the run listens to it.
    if (signal) setMaxListeners(0, signal);
    runSignals.set(config, signal);
  }
  return runSignals.get(config);
}

/**
 * The repositories the run will visit, in the order the worker pool takes them (by source repository), so the
 * clients can ask one Bearer token for several repositories at a time.
 */
function announceRepositories(rules: readonly MirrorRule[], source: RegistryClient, destination: RegistryClient): void {
  const ordered = [...rules].sort((a, b) => a.source.repository.localeCompare(b.source.repository));
  const group = (pairs: Array<{ registry: string; repository: string }>): Map<string, string[]> => {
    const byRegistry = new Map<string, string[]>();
    for (const { registry, repository } of pairs) {
      if (isLayoutRegistry(registry)) continue;
      const list = byRegistry.get(registry);
      if (list) list.push(repository);
      else byRegistry.set(registry, [repository]);
    }
    return byRegistry;
  };
  for (const [registry, repositories] of group(ordered.map((r) => r.source)))
    source.announceRepositories(registry, repositories, 'pull');
  for (const [registry, repositories] of group(ordered.flatMap((r) => r.destinations)))
    destination.announceRepositories(registry, repositories, 'push');
}

/** Several stacks may mirror the same image to the same place: one task per (source, destination, platforms). */
function dedupeTasks(job: ExpandedJob): ExpandedJob {
  const seen = new Set<string>();
  const tasks = job.tasks.filter((t) => {
    const key = `${t.source} ${t.destination} ${JSON.stringify(t.platforms ?? [])}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { ...job, tasks };
}

/** What a sync would do, with HEAD requests only (see planTasks). */
export async function planJob(job: Job): Promise<PlanReport> {
  const planned = await planTasks(job.expanded.tasks, job, job.lock);
  const entries = job.expanded.tasks.some((t) => t.referrers)
    ? await planReferrersOf(job.expanded.tasks, planned, job)
    : planned;
  const removed = removedFromLock(job.lock, job.expanded.tasks, lockScope(job));
  return { entries, removed, generateFailures: job.expanded.failures, warnings: job.expanded.warnings };
}

/** Copies every task (one failing image never stops the others) and, with a lock file, rewrites it atomically. */
export async function syncJob(job: Job, hooks: SyncHooks = {}): Promise<SyncOutcome> {
  const started = Date.now();
  const { tasks, failures } = job.expanded;
  const signal = runSignal(job.config);
  const engine = new CopyEngine({
    source: job.source,
    destination: job.destination,
    ...(hooks.onBytes ? { onBytes: hooks.onBytes } : {}),
    ...(signal ? { signal } : {}),
  });
  // An unchanged image costs a HEAD or two and no manifest read, so its platforms come from the lock when it knows them.
  const withLockedPlatforms = (result: ImageResult): ImageResult => {
    const locked = job.lock?.images[result.destination];
    if (result.status !== 'unchanged' || result.platforms.length > 0 || !locked || locked.digest !== result.digest)
      return result;
    return { ...result, platforms: [...locked.platforms] };
  };
  // With a lock file, an image already in place that the lock does not record (a first run) has its platforms read
  // at the destination, so its entry says the same as if this run had copied it (and shards' locks merge). An image
  // the lock records is not asked again, even with no platforms (an artifact has none): a rerun stays one HEAD a tag.
  const platformsFor = async (task: ImageTask, result: ImageResult): Promise<ImageResult> => {
    const known = withLockedPlatforms(result);
    if (!job.config.lockFile || known.status !== 'unchanged' || known.platforms.length > 0 || !known.digest)
      return known;
    if (job.lock?.images[known.destination]?.digest === known.digest) return known;
    const platforms = await engine.platformsAt(task.destination, known.digest).catch(() => []);
    return platforms.length > 0 ? { ...known, platforms } : known;
  };
  const vouched = lockedFor(job.config, job.lock);
  const referrers = tasks.some((t) => t.referrers)
    ? new ReferrerCopier({ engine, source: job.source, destination: job.destination })
    : undefined;
  const copied = (
    await runTasks(tasks, engine, {
      ...(job.config.workers !== undefined ? { workers: job.config.workers } : {}),
      ...(signal ? { signal } : {}),
      ...(referrers || job.config.lockFile
        ? {
            finish: async (task: ImageTask, result: ImageResult) =>
              platformsFor(
                task,
                referrers && task.referrers ? await referrers.copy(task.source, task.destination, result) : result,
              ),
          }
        : {}),
      ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
      ...(vouched ? { lockedFor: vouched } : {}),
      ...(hooks.onResult ? { onResult: (task, result) => hooks.onResult!(task, withLockedPlatforms(result)) } : {}),
    })
  ).map(withLockedPlatforms);
  // oci-archive destinations are written once, now that every image is in their staging layouts; an interrupted run
  // writes none (writing a large archive is not what a Ctrl-C asks for) and its staging directories are removed.
  const results = applyArchiveOutcomes(
    copied,
    signal?.aborted ? await job.destination.abandon(abortReason(signal)) : await job.destination.finish(),
  );
  let lock: LockFile | undefined;
  if (job.config.lockFile) {
    const planned = new Set(tasks.map((t) => t.destination.toString()));
    const inScope = lockScope(job);
    const previous = job.lock;
    // A shard writes its own share only: it may start from the whole lock (platforms, skip-by-lock), but entries of
    // other shards' repositories are theirs to update, and carrying stale copies would make `lock merge` see the
    // shards disagree whenever another shard copied something new.
    const otherShard = ownedByAnotherShard(job);
    lock = updateLock(
      previous,
      results,
      (destination) =>
        !planned.has(destination) &&
        (inScope(previous!.images[destination]!) || otherShard(previous!.images[destination]!)),
    );
    await writeLockFile(job.config.lockFile, lock);
  }
  const retries = job.source.retryCount + job.destination.retryCount;
  return { results, summary: summarize(results, failures, Date.now() - started, retries), ...(lock ? { lock } : {}) };
}

/** What the lock may vouch for, unless there is none or `--verify-destination` asks the destination anyway. */
function lockedFor(config: JobConfig, lock: LockFile | undefined): ((task: ImageTask) => LockVouch) | undefined {
  return lock && !config.verifyDestination ? (task) => lockedDestination(lock, task) : undefined;
}

/** A lock entry's digests for a destination the lock vouches for. */
type LockVouch = { sourceDigest: string; digest: string } | undefined;

/** The lock's record of a task's destination, when it was written for this same source. */
function lockedDestination(lock: LockFile, task: ImageTask): LockVouch {
  // A layout is checked locally for nothing, and an oci-archive is rewritten whole by every run: what the lock says
  // it held must be copied into it again.
  if (isLayoutRegistry(task.destination.registry)) return undefined;
  const entry = lock.images[task.destination.toString()];
  if (!entry || entry.source !== task.source.toString()) return undefined;
  return { sourceDigest: entry.sourceDigest, digest: entry.digest };
}

/** Whether a lock entry's source repository belongs to a shard other than this run's (never without `--shard`). */
function ownedByAnotherShard(job: Job): (entry: LockEntry) => boolean {
  const shard = job.config.shard;
  return (entry) => {
    if (shard === undefined) return false;
    try {
      return !inShard(parseReference(entry.source).name, shard);
    } catch {
      return false;
    }
  };
}

/**
 * Whether a lock entry belongs to the part of the job this run covers: its source repository is in this shard and
 * its rule was resolved (a rule whose tags could not be listed keeps its entries).
 */
function lockScope(job: Job): (entry: LockEntry) => boolean {
  const unresolved = new Set(job.expanded.failures.map((f) => f.source));
  return (entry) => {
    let repository: string;
    try {
      repository = parseReference(entry.source).name;
    } catch {
      return false;
    }
    return inShard(repository, job.config.shard) && !unresolved.has(repository);
  };
}
