import type { Command } from 'commander';
import { formatPlanMarkdown, planCounts } from '../../results/plan-report.js';
import { ExitCode } from '../exit-codes.js';
import { printable } from '../../results/escape.js';
import { openJob, planJob } from '../../job/job.js';
import { jobConfigFromFlags, type SyncFlags } from '../sync-inputs.js';
import { addJobOptions } from '../job-options.js';

/** `swr-sync plan`: what `sync` would do, resolved with HEAD requests only; copies nothing. */
export function registerPlan(program: Command): void {
  addJobOptions(program.command('plan'))
    .description('resolve every tag and digest and compare with the destination (HEAD only); copy nothing')
    .action(async (flags: SyncFlags) => {
      process.exitCode = await plan(flags);
    });
}

export async function plan(flags: SyncFlags): Promise<number> {
  const job = await openJob({ ...(await jobConfigFromFlags(flags)), checkAhead: 'plan' });
  job.source.limiter.onNotice((notice) => process.stderr.write(`swr-sync: pacing: ${printable(notice.message)}\n`));
  try {
    const report = await planJob(job);
    const counts = planCounts(report);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ summary: counts, ...report }, null, 2)}\n`);
    } else {
      process.stdout.write(formatPlanMarkdown(report));
    }
    return counts.failed > 0 || counts.generateFailed > 0 ? ExitCode.Failed : ExitCode.Ok;
  } finally {
    await job.close();
  }
}
