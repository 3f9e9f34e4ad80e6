import * as core from '@actions/core';
import { setMaxListeners } from 'node:events';
import { describeError, SwrSyncError } from '../errors.js';
import { openJob, planJob, syncJob, type Job } from '../job/job.js';
import { formatDurationText } from '../config/duration.js';
import { counted, formatBytes, formatImageLine } from '../results/format.js';
import { printable, workflowLogText } from '../results/escape.js';
import type { ImageResult } from '../engine/image-result.js';
import { formatPlanMarkdown, planCounts } from '../results/plan-report.js';
import { finishingLine } from '../results/run-summary.js';
import { commentBody, commentFooter, commentMarker, pullRequestOfEvent, upsertComment } from './comment.js';
import { display, jobConfigOf, readInputs, type ActionInputs } from './inputs.js';
import { planOutputs, setOutputs, syncOutputs } from './outputs.js';
import { planSummaryHtml, syncSummaryHtml } from './summary.js';

/**
 * The Action's phases, each in a log group: read inputs (secrets masked first), resolve the images, then plan or
 * sync, then outputs, job summary and (plan on a pull request) the PR comment. Returns the failure message for the
 * step, or undefined; main.ts is the only place that calls `core.setFailed`.
 */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const inputs = await readInputs({ env });
  try {
    const workspace = env.GITHUB_WORKSPACE || process.cwd();
    logInputs(inputs, workspace);
    const opened = await core.group('Resolving images', () => resolve(inputs, env));
    // Rules are named by file in messages: the workspace-relative path, or the input an inline document came from.
    const fileLabel = (file: string) =>
      file === inputs.inlineImagesFile ? 'input "images"' : display(file, workspace);
    const failures = opened.expanded.failures.map((f) => ({ ...f, rule: { ...f.rule, file: fileLabel(f.rule.file) } }));
    const job: Job = { ...opened, expanded: { ...opened.expanded, failures } };
    try {
      reportResolution(job, inputs);
      return inputs.mode === 'plan' ? await plan(job, inputs) : await sync(job, inputs, workspace);
    } finally {
      await job.close();
    }
  } finally {
    await inputs.cleanup();
  }
}

/**
 * A cancelled workflow run signals the step (SIGINT, then SIGTERM; docs/transfers.md): the first one stops new work
 * and cuts transfers, so the step still reports what completed, sets its outputs and writes the lock for it.
 * Listening once per signal leaves the second to Node's default: the step ends at once.
 */
function cancellation(): AbortSignal {
  const controller = new AbortController();
  // Every request of the run listens to it.
  setMaxListeners(0, controller.signal);
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      if (controller.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
      logWarning(
        `${name} received (the run was cancelled): stopping; images that completed are reported and kept in the lock file`,
        { title: 'swr-sync' },
      );
      controller.abort(new SwrSyncError('ERR_ABORTED', `the run was interrupted (${name})`));
    });
  }
  return controller.signal;
}

/**
 * The Action's only ways to write to the log. Text from registries reaches all three, so no line of `info` may be
 * read as a workflow command, and annotations are made printable (@actions/core escapes their line breaks).
 */
function logInfo(text: string): void {
  core.info(workflowLogText(text));
}

function logWarning(text: string, properties?: core.AnnotationProperties): void {
  core.warning(printable(text), properties);
}

function logError(text: string, properties?: core.AnnotationProperties): void {
  core.error(printable(text), properties);
}

function logInputs(inputs: ActionInputs, workspace: string): void {
  const parts = [
    `mode ${inputs.mode}`,
    `images from ${inputs.imagesOrigin}`,
    `workers ${inputs.workers}`,
    `retries ${inputs.retries}`,
    `platforms ${inputs.platformsText ?? 'all'}`,
    ...(inputs.lockFile ? [`lock file ${display(inputs.lockFile, workspace)}`] : []),
    ...(inputs.shard ? [`shard ${inputs.shard.index}/${inputs.shard.count}`] : []),
    ...(inputs.withReferrers ? ['with referrers'] : []),
    ...(inputs.verifyDestination ? ['verify destination'] : []),
    ...(inputs.rate !== undefined ? [`rate ${inputs.rate} requests/s per registry`] : []),
    ...(inputs.bandwidth !== undefined ? [`bandwidth ${inputs.bandwidth} bytes/s per registry`] : []),
    ...(inputs.timeoutMs !== undefined ? [`timeout ${formatDurationText(inputs.timeoutMs)}`] : []),
    ...(inputs.http2 ? [] : ['HTTP/1.1 only']),
    ...(inputs.authFile ? ['auth given'] : []),
  ];
  logInfo(`swr-sync: ${parts.join(', ')}`);
}

async function resolve(inputs: ActionInputs, env: NodeJS.ProcessEnv): Promise<Job> {
  const job = await openJob({
    ...jobConfigOf(inputs, env),
    signal: cancellation(),
    checkAhead: inputs.mode === 'plan' ? 'plan' : 'sync',
  });
  logInfo(
    `${counted(job.rules.length, 'rule')} from ${counted(inputs.imageFiles.length, 'file')} → ${counted(job.expanded.tasks.length, 'image')}`,
  );
  return job;
}

function reportResolution(job: Job, inputs: ActionInputs): void {
  const { tasks, failures, warnings } = job.expanded;
  for (const w of warnings) logWarning(w);
  for (const f of failures) {
    logError(`${f.source} (${f.rule.file}, key "${f.rule.key}"): ${f.error.message}`, {
      title: 'swr-sync: rule could not be resolved',
    });
  }
  if (tasks.length === 0 && failures.length === 0) {
    const where = inputs.shard ? ` in shard ${inputs.shard.index}/${inputs.shard.count}` : '';
    logWarning(`nothing to do: the images${where} select no image (${inputs.imagesOrigin})`, { title: 'swr-sync' });
  }
}

async function sync(job: Job, inputs: ActionInputs, workspace: string): Promise<string | undefined> {
  const total = job.expanded.tasks.length;
  const outcome = await core.group(`Copying ${counted(total, 'image')} (${inputs.workers} at a time)`, async () => {
    let done = 0;
    let bytes = 0;
    const timer = setInterval(
      () => logInfo(`… ${done}/${total} images done, ${formatBytes(bytes)} transferred`),
      10_000,
    );
    timer.unref();
    try {
      return await syncJob(job, {
        onResult: (_task, result) => {
          done++;
          logInfo(formatImageLine(result));
        },
        onBytes: (n) => (bytes += n),
      });
    } finally {
      clearInterval(timer);
    }
  });
  const { results, summary } = outcome;
  logInfo(finishingLine(summary));
  if (inputs.lockFile && outcome.lock) {
    logInfo(
      `lock file ${display(inputs.lockFile, workspace)} updated (${counted(Object.keys(outcome.lock.images).length, 'entry', 'entries')})`,
    );
  }
  if (total > 0 && summary.copied === 0 && summary.failed === 0)
    logInfo(`${total === 1 ? 'the image' : `all ${total} images`} already had the source digest: nothing copied`);
  if (inputs.comment)
    logWarning('"comment" applies in plan mode only: no pull request comment in sync mode', { title: 'swr-sync' });

  const failed = results.filter((r) => r.status === 'failed');
  for (const r of failed) logError(imageFailure(r), { title: 'swr-sync: image failed' });

  await core.group('Outputs and summary', async () => {
    const outputs = syncOutputs(results);
    setOutputs(outputs);
    logInfo(
      `outputs: ${Object.keys(outputs.digests).length} digests, changed ${outputs.changed}${outputs.digest ? `, digest ${outputs.digest}` : ''}`,
    );
    if (inputs.summary) {
      await writeSummary(
        syncSummaryHtml({
          results,
          summary,
          failures: job.expanded.failures,
          warnings: job.expanded.warnings,
          ...(inputs.lockFile && outcome.lock ? { lockFile: display(inputs.lockFile, workspace) } : {}),
        }),
      );
    }
  });
  return failureMessage(failed.map(imageFailure), job.expanded.failures.length, total);
}

async function plan(job: Job, inputs: ActionInputs): Promise<string | undefined> {
  const report = await core.group(
    `Planning ${counted(job.expanded.tasks.length, 'image')} (HEAD requests only, nothing is copied)`,
    async () => {
      const planned = await planJob(job);
      logInfo(formatPlanMarkdown(planned).trimEnd());
      return planned;
    },
  );
  const counts = planCounts(report);
  const failedEntries = report.entries.filter((e) => e.status === 'failed');
  const failures = failedEntries.map((e) => `${e.source} -> ${e.destination}: ${e.error?.message ?? 'unknown error'}`);
  for (const f of failures) logError(f, { title: 'swr-sync: image could not be planned' });
  if (report.entries.length > 0 && counts.new + counts.changed === 0 && counts.failed === 0) {
    logInfo(
      `${report.entries.length === 1 ? 'the image is' : `all ${report.entries.length} images are`} up to date: a sync would copy nothing`,
    );
  }

  await core.group('Outputs, summary and comment', async () => {
    const markdown = formatPlanMarkdown(report);
    const outputs = planOutputs(report, markdown);
    setOutputs(outputs);
    logInfo(
      `outputs: ${Object.keys(outputs.digests).length} digests, changed ${outputs.changed} (new ${counts.new}, changed ${counts.changed})`,
    );
    if (inputs.summary) await writeSummary(planSummaryHtml(report));
    if (inputs.comment) await comment(report, inputs);
  });
  return failureMessage(failures, counts.generateFailed, report.entries.length);
}

async function comment(report: Parameters<typeof commentBody>[0], inputs: ActionInputs): Promise<void> {
  const event = process.env.GITHUB_EVENT_NAME ?? '';
  const target = pullRequestOfEvent();
  if (!target) {
    logInfo(`comment: not a pull request event (${event || 'no event'}): no comment written`);
    return;
  }
  if (!inputs.githubToken) {
    logWarning('comment: "github-token" is empty, so the plan cannot be posted on the pull request', {
      title: 'swr-sync',
    });
    return;
  }
  const marker = commentMarker(inputs.shard);
  try {
    const result = await upsertComment({
      token: inputs.githubToken,
      target,
      marker,
      body: commentBody(report, marker, commentFooter(target)),
    });
    logInfo(`comment ${result.action} on pull request #${target.number}${result.url ? `: ${result.url}` : ''}`);
  } catch (error) {
    // A pull request from a fork gets a read-only token: the plan is still in the log, summary and outputs.
    const status = (error as { status?: unknown }).status;
    const hint =
      status === 403 || status === 404
        ? ' (the token needs "pull-requests: write" or "issues: write"; pull requests from forks get a read-only token)'
        : '';
    logWarning(`comment on pull request #${target.number} failed: ${describeError(error)}${hint}`, {
      title: 'swr-sync',
    });
  }
}

async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(html).write();
  } catch (error) {
    core.summary.emptyBuffer();
    logWarning(`job summary not written: ${describeError(error)}`);
  }
}

function imageFailure(r: ImageResult): string {
  return `${r.source} -> ${r.destination}: ${r.error?.message ?? 'unknown error'}`;
}

/** The step's failure: images (named, with the cause) and rules that could not be resolved. */
function failureMessage(failures: readonly string[], generateFailed: number, total: number): string | undefined {
  if (failures.length === 0 && generateFailed === 0) return undefined;
  const parts: string[] = [];
  if (failures.length === 1) parts.push(`${total === 1 ? 'the image' : `1 of ${total} images`} failed: ${failures[0]}`);
  else if (failures.length > 1)
    parts.push(`${failures.length} of ${total} images failed (see the errors above); first: ${failures[0]}`);
  if (generateFailed > 0)
    parts.push(
      `${generateFailed} rule${generateFailed === 1 ? '' : 's'} could not be resolved (tags could not be listed; see the errors above)`,
    );
  return parts.join('; ');
}
