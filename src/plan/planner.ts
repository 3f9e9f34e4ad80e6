import type { ImageStore } from '../store/image-store.js';
import { describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { Limiter } from '../util/limiter.js';
import { filterIndex } from '../oci/platform-filter.js';
import { digestOf } from '../oci/digest.js';
import { isIndexMediaType, parseManifest } from '../oci/manifest.js';
import { formatPlatform } from '../oci/platform.js';
import type { LockEntry, LockFile } from './lock-file.js';
import type { ImageTask, RuleOrigin } from './image-task.js';

export type PlanStatus = 'new' | 'changed' | 'unchanged' | 'failed';

export interface PlanEntry {
  readonly rule: RuleOrigin;
  readonly source: string;
  readonly destination: string;
  readonly status: PlanStatus;
  /** Digest the source tag resolves to now. */
  readonly sourceDigest?: string;
  /** Digest the destination would hold after a sync (differs from the source's under a platform filter). */
  readonly digest?: string;
  /** Digest the destination holds now (for `changed`: the old one). */
  readonly currentDigest?: string;
  readonly platforms?: readonly string[];
  /** With `--with-referrers`: referrer manifests found at the source, and how many the destination lacks. */
  readonly referrers?: { readonly found: number; readonly missing: number; readonly skipped: number };
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RemovedEntry {
  readonly destination: string;
  readonly entry: LockEntry;
}

export interface PlanOptions {
  /** Images resolved at once. @default 16 */
  readonly concurrency?: number;
}

/**
 * What a sync would do, found with HEAD requests only: a HEAD of the source tag gives its digest, a HEAD of the
 * destination gives what is there now. A manifest GET (a Docker Hub pull) happens only for a platform filter whose
 * result the lock file cannot vouch for, since the filtered index's digest must be computed from the source index.
 */
export async function planTasks(
  tasks: readonly ImageTask[],
  clients: { readonly source: ImageStore; readonly destination: ImageStore },
  lock: LockFile | undefined,
  options: PlanOptions = {},
): Promise<PlanEntry[]> {
  const limiter = new Limiter(options.concurrency ?? 16);
  return Promise.all(tasks.map((task) => limiter.run(() => planOne(task, clients, lock))));
}

async function planOne(task: ImageTask, clients: { readonly source: ImageStore; readonly destination: ImageStore }, lock: LockFile | undefined): Promise<PlanEntry> {
  const { source: src, destination: dst } = task;
  const base = { rule: task.rule, source: src.toString(), destination: dst.toString() };
  try {
    const head = await clients.source.headManifest(src.registry, src.repository, src.ref);
    if (!head) throw new SwrSyncError('ERR_NOT_FOUND', `source image ${src} not found (manifest unknown)`, { registry: src.registry, repository: src.repository });
    let sourceDigest = head.digest;
    let digest = sourceDigest;
    let platforms: string[] | undefined;
    const filtering = (task.platforms?.length ?? 0) > 0;
    const locked = lock?.images[base.destination];
    if (sourceDigest === undefined || (filtering && !(locked && locked.sourceDigest === sourceDigest))) {
      const fetched = await clients.source.getManifest(src.registry, src.repository, sourceDigest ?? src.ref);
      sourceDigest = fetched.digest;
      digest = fetched.digest;
      const manifest = parseManifest(fetched.bytes, fetched.mediaType, { registry: src.registry, repository: src.repository });
      if (filtering && manifest.kind === 'index' && isIndexMediaType(manifest.mediaType)) {
        const selected = filterIndex(fetched.bytes, manifest.manifests, task.platforms, src);
        digest = digestOf(selected.bytes);
        platforms = selected.children.filter((c) => c.platform && c.platform.os !== 'unknown').map((c) => formatPlatform(c.platform!));
      }
    } else if (filtering && locked) {
      digest = locked.digest;
      platforms = [...locked.platforms];
    }
    const dstRef = dst.tag ?? dst.digest ?? sourceDigest!;
    const current = await clients.destination.headManifest(dst.registry, dst.repository, dstRef, 'pull');
    const status: PlanStatus = current === undefined ? 'new' : current.digest === digest ? 'unchanged' : 'changed';
    return {
      ...base,
      status,
      ...(sourceDigest ? { sourceDigest } : {}),
      ...(digest ? { digest } : {}),
      ...(current?.digest ? { currentDigest: current.digest } : {}),
      ...(platforms ?? locked?.platforms ? { platforms: platforms ?? [...locked!.platforms] } : {}),
    };
  } catch (error) {
    return { ...base, status: 'failed', error: { code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED', message: describeError(error) } };
  }
}

/** Lock entries the job no longer produces (within the part of the job this run covers). */
export function removedFromLock(lock: LockFile | undefined, tasks: readonly ImageTask[], inScope: (entry: LockEntry) => boolean): RemovedEntry[] {
  if (!lock) return [];
  const planned = new Set(tasks.map((t) => t.destination.toString()));
  return Object.entries(lock.images)
    .filter(([destination, entry]) => !planned.has(destination) && inScope(entry))
    .map(([destination, entry]) => ({ destination, entry }))
    .sort((a, b) => a.destination.localeCompare(b.destination));
}
