import { Option, type Command } from 'commander';
import { SwrSyncError } from '../../errors.js';
import { openJob, syncJob } from '../../job/job.js';
import { counted, formatImageLine } from '../../results/format.js';
import { finishingLine, summaryTable } from '../../results/run-summary.js';
import { RunLog } from '../../results/run-log.js';
import { printable } from '../../results/escape.js';
import { writeSuccessImages } from '../../results/success-images.js';
import { ExitCode } from '../exit-codes.js';
import { byteRateOption } from '../options.js';
import { addJobOptions } from '../job-options.js';
import { Interrupt, type InterruptSignal } from '../interrupt.js';
import { Progress } from '../progress.js';
import type { ImageResult } from '../../engine/image-result.js';
import { jobConfigFromFlags, type SyncFlags } from '../sync-inputs.js';
import { plan } from './plan.js';

export function registerSync(program: Command): void {
  addJobOptions(program.command('sync', { isDefault: true }))
    .description('mirror every image of an images.json / mirror spec (the default command)')
    .option('--log <file>', 'log file: one line per image', './swr-sync.log')
    .option('--dry-run', 'print the plan instead of copying (same as `swr-sync plan`)')
    .option(
      '--bandwidth <bytes/s>',
      'blob bytes per second to and from each registry: 20M, 512k (powers of 1000), 1.5MiB (powers of 1024)',
      byteRateOption('--bandwidth'),
    )
    .option(
      '--verify-destination',
      "HEAD every destination tag even when the lock file vouches for it (tags changed behind the tool's back)",
    )
    .option(
      '--force',
      "image-syncer's --force: same as --verify-destination (a destination already holding the source digest is byte-identical, so it is not written again)",
    )
    .option(
      '--output-success-images <file>',
      "image-syncer's list of the images that succeeded (copied or already there): an images file mapping each source to its destinations",
    )
    .addOption(
      new Option('--output-images-format <format>', 'format of --output-success-images')
        .choices(['yaml', 'json'])
        .default('yaml'),
    )
    // As the default command, sync would otherwise read a mistyped command name as a stray argument.
    .allowExcessArguments(true)
    .action(async (flags: SyncFlags, command: Command) => {
      const unexpected = command.args[0];
      if (unexpected !== undefined) {
        const known = command.parent?.commands.map((c) => c.name()).join(', ') ?? '';
        throw new SwrSyncError('ERR_INVALID_ARGUMENT', `unknown command '${unexpected}' (commands: ${known})`);
      }
      process.exitCode = flags.dryRun ? await plan(flags) : await sync(flags);
    });
}

async function sync(flags: SyncFlags): Promise<number> {
  const interrupt = new Interrupt();
  try {
    return await syncWith(flags, interrupt);
  } finally {
    interrupt.dispose();
  }
}

async function syncWith(flags: SyncFlags, interrupt: Interrupt): Promise<number> {
  const job = await openJob({ ...(await jobConfigFromFlags(flags)), signal: interrupt.signal, checkAhead: 'sync' });
  const log = flags.log ? new RunLog(flags.log) : undefined;
  try {
    await log?.ready();
    const { tasks, failures, warnings } = job.expanded;
    log?.start(`sync of ${tasks.length} images from ${flags.config ?? flags.images ?? './images.json'}`);
    job.source.limiter.onNotice((notice) => log?.line(`pacing: ${notice.message}`));
    for (const f of failures) log?.generateFailure(f);
    for (const w of warnings) process.stderr.write(`swr-sync: warning: ${printable(w)}\n`);
    if (tasks.length === 0 && failures.length === 0) {
      const none = nothingToDo(job.config.shard, job.config.legacyConfig ?? flags.images ?? './images.json');
      process.stderr.write(`swr-sync: ${none}\n`);
      log?.line(none);
    }
    const progress = await Progress.start({ total: tasks.length });
    // Without a terminal (CI logs, pipes) each image's line is printed as it finishes, not all at the end; with
    // --json they go to stderr, as progress does, and stdout keeps the JSON alone.
    const streamLines = progress.plain;
    const lineStream = flags.json ? process.stderr : process.stdout;
    const { results, summary } = await syncJob(job, {
      onStart: (task) => progress.imageStarted(task),
      onResult: (task, result) => {
        progress.imageFinished(task, result);
        log?.image(result);
        if (streamLines && shown(result, interrupt)) lineStream.write(`${formatImageLine(result)}\n`);
      },
      onBytes: (n) => progress.addBytes(n),
    }).finally(() => progress.stop());
    for (const notice of job.source.limiter.notices)
      process.stderr.write(`swr-sync: pacing: ${printable(notice.message)}\n`);
    if (flags.outputSuccessImages)
      await writeSuccessImages(flags.outputSuccessImages, results, flags.outputImagesFormat ?? 'yaml');
    log?.line(finishingLine(summary));
    log?.line(`retries: ${summary.retries} requests or transfers were tried again after a transient failure`);

    const interrupted = interrupt.by ? interruptedLine(interrupt.by, results, flags.lock) : undefined;
    if (interrupted) log?.line(interrupted);
    await log?.flush();

    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ summary, images: results, generateFailures: failures, warnings, ...(interrupt.by ? { interrupted: interrupt.by } : {}) }, null, 2)}\n`,
      );
    } else {
      for (const f of failures)
        process.stdout.write(
          `failed     ${printable(`${f.source} (${f.rule.file}: "${f.rule.key}"): ${f.error.message}`)}\n`,
        );
      if (!streamLines)
        for (const r of results) if (shown(r, interrupt)) process.stdout.write(`${formatImageLine(r)}\n`);
      if (summary.unchanged > 0)
        process.stdout.write(`unchanged  ${counted(summary.unchanged, 'image')} already had the source digest\n`);
      process.stdout.write(`${finishingLine(summary)}\n${summaryTable(summary)}\n`);
    }
    if (interrupted) process.stderr.write(`swr-sync: ${interrupted}\n`);
    return interrupt.exitCode(summary.failed > 0 || summary.generateFailed > 0 ? ExitCode.Failed : ExitCode.Ok);
  } finally {
    await job.close();
  }
}

/**
 * Whether an image gets a line of its own: not an unchanged one (counted in one line), unless its referrers were
 * copied; not one an interrupted run never got to (counted in the interruption line).
 */
function shown(result: ImageResult, interrupt: Interrupt): boolean {
  if (interrupt.by && result.status === 'failed' && result.error?.code === 'ERR_ABORTED') return false;
  return result.status !== 'unchanged' || Boolean(result.referrers?.copied || result.referrers?.tags);
}

/** What an interrupted run completed, and what it left: the images cut short or not started are tried by a rerun. */
function interruptedLine(
  signal: InterruptSignal,
  results: readonly ImageResult[],
  lockFile: string | undefined,
): string {
  const completed = results.filter((r) => r.status !== 'failed').length;
  const stopped = results.filter((r) => r.status === 'failed' && r.error?.code === 'ERR_ABORTED').length;
  return `interrupted by ${signal}: ${completed} of ${results.length} images completed${lockFile ? ` (recorded in ${lockFile})` : ''}, ${stopped} not finished; run again to finish them`;
}

/** Why a run copies nothing when no rule failed: the images file selects no image, or this shard got none of them. */
export function nothingToDo(
  shard: { readonly index: number; readonly count: number } | undefined,
  images: string,
): string {
  if (!shard) return `nothing to do: ${images} selects no image`;
  return `nothing to do: shard ${shard.index}/${shard.count} holds no image of ${images} (shards divide the job by source repository, and the other shards hold all of them)`;
}
