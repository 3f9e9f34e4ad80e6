import { RegistryClient, Transport } from '../client/registry-client.js';
import { chainCredentialSources, loadAuthJson, loadDefaultDockerConfig, type CredentialSource } from '../config/credentials.js';
import { loadImagesFile } from '../config/images-file.js';
import type { MirrorRule } from '../config/mirror-rule.js';
import { CopyEngine } from '../engine/copy-engine.js';
import { runTasks } from '../engine/sync-runner.js';
import { parseReference } from '../oci/reference.js';
import { expandRules } from '../plan/expand.js';
import type { ExpandedJob, ImageTask } from '../plan/image-task.js';
import { planTasks, removedFromLock } from '../plan/planner.js';
import { inShard } from '../plan/shard.js';
import type { ImageResult } from '../results/image-result.js';
import { readLockFile, updateLock, writeLockFile, type LockEntry, type LockFile } from '../results/lock-file.js';
import type { PlanReport } from '../results/plan-report.js';
import { summarize, type RunSummary } from '../results/run-summary.js';
import type { JobConfig } from './job-config.js';

/** A loaded, validated job with its registry clients; `close()` releases the connections. */
export interface Job {
  readonly config: JobConfig;
  /** The rules of this shard. */
  readonly rules: readonly MirrorRule[];
  readonly credentials: CredentialSource;
  readonly lock: LockFile | undefined;
  readonly source: RegistryClient;
  readonly destination: RegistryClient;
  readonly expanded: ExpandedJob;
  close(): Promise<void>;
}

export interface SyncHooks {
  readonly onStart?: (task: ImageTask) => void;
  readonly onResult?: (task: ImageTask, result: ImageResult) => void;
  readonly onBytes?: (bytes: number) => void;
}

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
  const [authJson, dockerConfig, ruleSets, lock] = await Promise.all([
    config.auth ? loadAuthJson(config.auth, env) : undefined,
    loadDefaultDockerConfig(env),
    Promise.all(config.images.map((file) => loadImagesFile(file, {
      ...(config.registry !== undefined ? { registry: config.registry } : {}),
      ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
      env,
    }))),
    config.lockFile ? readLockFile(config.lockFile) : undefined,
  ]);
  const credentials = chainCredentialSources(...[authJson, dockerConfig].filter((s): s is NonNullable<typeof s> => s !== undefined));
  const rules = ruleSets.flat().filter((r) => inShard(`${r.source.registry}/${r.source.repository}`, config.shard));
  const transport = new Transport(config.stallTimeoutMs !== undefined ? { stallTimeoutMs: config.stallTimeoutMs } : {});
  const common = {
    credentials,
    transport,
    retry: { retries: config.retries ?? 3 },
    ...(config.timeoutMs !== undefined ? { signal: AbortSignal.timeout(config.timeoutMs) } : {}),
  };
  const source = new RegistryClient(common);
  const destination = new RegistryClient(common);
  try {
    const expanded = await expandRules(rules, source, config.platforms ? { platforms: config.platforms } : {});
    return { config, rules, credentials, lock, source, destination, expanded: dedupeTasks(expanded), close: () => transport.close() };
  } catch (error) {
    await transport.close();
    throw error;
  }
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
  const entries = await planTasks(job.expanded.tasks, job, job.lock);
  const removed = removedFromLock(job.lock, job.expanded.tasks, lockScope(job));
  return { entries, removed, generateFailures: job.expanded.failures, warnings: job.expanded.warnings };
}

/** Copies every task (one failing image never stops the others) and, with a lock file, rewrites it atomically. */
export async function syncJob(job: Job, hooks: SyncHooks = {}): Promise<SyncOutcome> {
  const started = Date.now();
  const { tasks, failures } = job.expanded;
  const engine = new CopyEngine({ source: job.source, destination: job.destination, ...(hooks.onBytes ? { onBytes: hooks.onBytes } : {}) });
  // An unchanged image costs two HEADs and no manifest read, so its platforms come from the lock when it knows them.
  const withLockedPlatforms = (result: ImageResult): ImageResult => {
    const locked = job.lock?.images[result.destination];
    if (result.status !== 'unchanged' || result.platforms.length > 0 || !locked || locked.digest !== result.digest) return result;
    return { ...result, platforms: [...locked.platforms] };
  };
  const results = (await runTasks(tasks, engine, {
    ...(job.config.workers !== undefined ? { workers: job.config.workers } : {}),
    ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
    ...(hooks.onResult ? { onResult: (task, result) => hooks.onResult!(task, withLockedPlatforms(result)) } : {}),
  })).map(withLockedPlatforms);
  let lock: LockFile | undefined;
  if (job.config.lockFile) {
    const planned = new Set(tasks.map((t) => t.destination.toString()));
    const inScope = lockScope(job);
    const previous = job.lock;
    lock = updateLock(previous, results, (destination) => !planned.has(destination) && inScope(previous!.images[destination]!));
    await writeLockFile(job.config.lockFile, lock);
  }
  return { results, summary: summarize(results, failures, Date.now() - started), ...(lock ? { lock } : {}) };
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
