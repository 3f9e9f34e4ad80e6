import type { ImageTask } from '../plan/image-task.js';
import type { ImageResult } from '../results/image-result.js';
import type { CopyEngine, CopyOptions } from './copy-engine.js';
import { Limiter } from './limiter.js';

export interface RunTasksOptions {
  /** Images copied at once (image-migrator `--workers`). @default 7 */
  readonly workers?: number;
  readonly onStart?: (task: ImageTask) => void;
  readonly onResult?: (task: ImageTask, result: ImageResult) => void;
  /** The lock file's record of a task's destination, when it may stand in for a destination HEAD. */
  readonly lockedFor?: (task: ImageTask) => CopyOptions['locked'];
  /** A step after each copy, in the same worker, that may add to the result (e.g. copying the image's referrers). */
  readonly finish?: (task: ImageTask, result: ImageResult) => Promise<ImageResult>;
}

/**
 * Copies every task with a pool of workers sharing one engine (so blobs are deduplicated and mounted across the
 * whole run). One failing image never stops the others: its result says `failed`.
 * Tasks are started grouped by source repository, so the images that share layers follow each other.
 */
export async function runTasks(tasks: readonly ImageTask[], engine: CopyEngine, options: RunTasksOptions = {}): Promise<ImageResult[]> {
  const limiter = new Limiter(options.workers ?? 7);
  const order = tasks.map((task, index) => ({ task, index }))
    .sort((a, b) => a.task.source.name.localeCompare(b.task.source.name) || a.index - b.index);
  const results: ImageResult[] = new Array(tasks.length);
  await Promise.all(order.map(({ task, index }) => limiter.run(async () => {
    options.onStart?.(task);
    const locked = options.lockedFor?.(task);
    const copied = await engine.copy(task.source, task.destination, {
      ...(task.platforms ? { platforms: task.platforms } : {}),
      ...(locked ? { locked } : {}),
    });
    const result = options.finish ? await options.finish(task, copied) : copied;
    results[index] = result;
    options.onResult?.(task, result);
  })));
  return results;
}
