import type { ImageTask } from '../plan/image-task.js';
import type { ImageResult } from './image-result.js';
import { isChecked, type CopyEngine, type CopyOptions } from './copy-engine.js';
import { Limiter } from '../util/limiter.js';
import { abortReasonText, isSwrSyncError, SwrSyncError } from '../errors.js';
import { DEFAULT_WORKERS } from '../defaults.js';

export interface RunTasksOptions {
  /** Images copied at once (image-migrator `--workers`). @default 7 */
  readonly workers?: number;
  /**
   * Images whose skip-unchanged check (HEAD requests only) runs at once, beside the copies.
   * @default 4 × workers, at most 32 (the client's connections per host), and never fewer than workers
   */
  readonly checks?: number;
  readonly onStart?: (task: ImageTask) => void;
  readonly onResult?: (task: ImageTask, result: ImageResult) => void;
  /** The lock file's record of a task's destination, when it may stand in for a destination HEAD. */
  readonly lockedFor?: (task: ImageTask) => CopyOptions['locked'];
  /** A step after each copy, in the same worker, that may add to the result (e.g. copying the image's referrers). */
  readonly finish?: (task: ImageTask, result: ImageResult) => Promise<ImageResult>;
  /** Once aborted, images not yet started fail at once (`ERR_ABORTED`, not started) and the others are cut short. */
  readonly signal?: AbortSignal;
}

/** The typed error an aborted run reports (the reason the signal carries, when it is one). */
export function abortReason(signal: AbortSignal): SwrSyncError {
  const reason = signal.reason as unknown;
  if (isSwrSyncError(reason)) return reason;
  return new SwrSyncError('ERR_ABORTED', abortReasonText(reason));
}

function notStarted(task: ImageTask, signal: AbortSignal): ImageResult {
  return {
    source: task.source.toString(),
    destination: task.destination.toString(),
    platforms: [],
    bytesTransferred: 0,
    bytesSkipped: 0,
    blobs: { copied: 0, mounted: 0, present: 0 },
    status: 'failed',
    error: {
      code: 'ERR_ABORTED',
      message: `${task.source} -> ${task.destination} not started: ${abortReason(signal).message}`,
    },
    durationMs: 0,
  };
}

/** How `runTasks` checks and copies `task` (also what a run's check-ahead must match, see firstCheckRequest). */
export function copyOptionsOf(task: ImageTask, lockedFor?: RunTasksOptions['lockedFor']): CopyOptions {
  const locked = lockedFor?.(task);
  return {
    ...(task.platforms ? { platforms: task.platforms } : {}),
    ...(locked ? { locked } : {}),
  };
}

/** At most 32 HEAD checks at once: the registry client keeps 32 connections per host. */
const CHECKS_MAX = 32;

/**
 * Copies every task with a pool of workers sharing one engine (so blobs are deduplicated and mounted across the
 * whole run). One failing image never stops the others: its result says `failed`.
 *
 * Each image is first checked (is the destination already at the source digest?) in a wider pool than the copy
 * workers: a check is one or two HEADs, so a no-change rerun of thousands of tags is bound by round trips, not by
 * `--workers` (issue 7: a cheap warm path). Only images that need copying take a worker, in the order their checks
 * finish; checks and copies overlap.
 * Tasks are started grouped by source repository, so the images that share layers follow each other.
 */
export async function runTasks(
  tasks: readonly ImageTask[],
  engine: CopyEngine,
  options: RunTasksOptions = {},
): Promise<ImageResult[]> {
  const workers = options.workers ?? DEFAULT_WORKERS;
  const copies = new Limiter(workers);
  const checks = new Limiter(options.checks ?? Math.max(workers, Math.min(CHECKS_MAX, 4 * workers)));
  const order = tasks
    .map((task, index) => ({ task, index }))
    .sort((a, b) => a.task.source.name.localeCompare(b.task.source.name) || a.index - b.index);
  const results: ImageResult[] = new Array(tasks.length);
  await Promise.all(
    order.map(async ({ task, index }) => {
      const copyOptions = copyOptionsOf(task, options.lockedFor);
      const { signal } = options;
      const checked = await checks.run(async () => {
        if (signal?.aborted) return notStarted(task, signal);
        options.onStart?.(task);
        return engine.check(task.source, task.destination, copyOptions);
      });
      let result: ImageResult;
      if (isChecked(checked)) {
        result = await copies.run(async () => {
          if (signal?.aborted) return notStarted(task, signal);
          const copied = await engine.copy(task.source, task.destination, { ...copyOptions, checked });
          return options.finish ? options.finish(task, copied) : copied;
        });
      } else if (options.finish && checked.status !== 'failed') {
        // An unchanged image may still have new referrers (a signature added since): that is copy work.
        result = await copies.run(() => options.finish!(task, checked));
      } else {
        result = options.finish ? await options.finish(task, checked) : checked;
      }
      results[index] = result;
      options.onResult?.(task, result);
    }),
  );
  return results;
}
