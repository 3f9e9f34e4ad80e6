import type { ImageStore } from '../store/image-store.js';
import { describeError, isSwrSyncError, SwrSyncError } from '../errors.js';
import { Limiter } from '../util/limiter.js';
import { filterIndex } from '../oci/platform-filter.js';
import { digestOf } from '../oci/digest.js';
import { isIndexMediaType, parseManifest, type Descriptor } from '../oci/manifest.js';
import { formatPlatform, platformMatches, platformOfImageConfig } from '../oci/platform.js';
import type { LockEntry, LockFile } from './lock-file.js';
import type { ImageTask, RuleOrigin } from './image-task.js';

/** `skipped`: a platform filter leaves the image out (no wanted platform), as `sync` skips it. */
export type PlanStatus = 'new' | 'changed' | 'unchanged' | 'skipped' | 'failed';

/** What a sync would do with one image, as `plan` finds it with HEAD requests. */
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
  /** Why a `skipped` image is left out. */
  readonly note?: string;
}

/** A lock-file entry no rule of the job produces any more. */
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

async function planOne(
  task: ImageTask,
  clients: { readonly source: ImageStore; readonly destination: ImageStore },
  lock: LockFile | undefined,
): Promise<PlanEntry> {
  const { source: src, destination: dst } = task;
  const base = { rule: task.rule, source: src.toString(), destination: dst.toString() };
  try {
    const head = await clients.source.headManifest(src.registry, src.repository, src.ref);
    if (!head)
      throw new SwrSyncError('ERR_NOT_FOUND', `source image ${src} not found (manifest unknown)`, {
        registry: src.registry,
        repository: src.repository,
      });
    let sourceDigest = head.digest;
    let digest = sourceDigest;
    let platforms: string[] | undefined;
    const filtering = (task.platforms?.length ?? 0) > 0;
    const locked = lock?.images[base.destination];
    if (sourceDigest === undefined || (filtering && !(locked && locked.sourceDigest === sourceDigest))) {
      const fetched = await clients.source.getManifest(src.registry, src.repository, sourceDigest ?? src.ref);
      sourceDigest = fetched.digest;
      digest = fetched.digest;
      const manifest = parseManifest(fetched.bytes, fetched.mediaType, {
        registry: src.registry,
        repository: src.repository,
      });
      if (filtering && manifest.kind === 'index' && isIndexMediaType(manifest.mediaType)) {
        const selected = filterIndex(fetched.bytes, manifest.manifests, task.platforms, src);
        digest = digestOf(selected.bytes);
        platforms = selected.children
          .filter((c) => c.platform && c.platform.os !== 'unknown')
          .map((c) => formatPlatform(c.platform!));
      } else if (filtering && manifest.kind === 'manifest') {
        await checkImagePlatform(clients.source, task, manifest.config);
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
      ...((platforms ?? locked?.platforms) ? { platforms: platforms ?? [...locked!.platforms] } : {}),
    };
  } catch (error) {
    if (isSwrSyncError(error) && error.code === 'ERR_PLATFORM_NOT_FOUND')
      return { ...base, status: 'skipped', note: error.message.replace(`${src}: `, '') };
    return {
      ...base,
      status: 'failed',
      error: { code: isSwrSyncError(error) ? error.code : 'ERR_UNEXPECTED', message: describeError(error) },
    };
  }
}

const CONFIG_READ_LIMIT = 4 * 1024 * 1024;

/**
 * A platform filter on a single-platform image: its config names the platform (as the copy engine reads it); one
 * of another platform throws ERR_PLATFORM_NOT_FOUND. A config that is no image config, too large, or names no
 * platform lets the image through, as the copy does.
 */
async function checkImagePlatform(source: ImageStore, task: ImageTask, config: Descriptor): Promise<void> {
  if (
    config.size > CONFIG_READ_LIMIT ||
    !/^application\/vnd\.(oci\.image\.config\.v1|docker\.container\.image\.v1)\+json$/.test(config.mediaType)
  )
    return;
  const { registry, repository } = task.source;
  const blob = await source.getBlob(registry, repository, config.digest);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of blob.body) {
    total += (chunk as Buffer).length;
    if (total > config.size) {
      blob.body.destroy();
      throw new SwrSyncError(
        'ERR_DIGEST_MISMATCH',
        `${task.source}: config ${config.digest} is larger than its descriptor says (${config.size} bytes)`,
        { registry, repository },
      );
    }
    parts.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(parts);
  if (digestOf(bytes) !== config.digest) {
    throw new SwrSyncError('ERR_DIGEST_MISMATCH', `${task.source}: config ${config.digest} does not match its bytes`, {
      registry,
      repository,
    });
  }
  const platform = platformOfImageConfig(bytes);
  const wanted = task.platforms ?? [];
  if (platform && !wanted.some((w) => platformMatches(w, platform))) {
    throw new SwrSyncError(
      'ERR_PLATFORM_NOT_FOUND',
      `${task.source}: a single-platform image for ${formatPlatform(platform)}, not one of the requested platforms (${wanted.map(formatPlatform).join(', ')}): skipped`,
      { registry, repository },
    );
  }
}

/** Lock entries the job no longer produces (within the part of the job this run covers). */
export function removedFromLock(
  lock: LockFile | undefined,
  tasks: readonly ImageTask[],
  inScope: (entry: LockEntry) => boolean,
): RemovedEntry[] {
  if (!lock) return [];
  const planned = new Set(tasks.map((t) => t.destination.toString()));
  return Object.entries(lock.images)
    .filter(([destination, entry]) => !planned.has(destination) && inScope(entry))
    .map(([destination, entry]) => ({ destination, entry }))
    .sort((a, b) => a.destination.localeCompare(b.destination));
}
