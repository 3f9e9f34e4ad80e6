import { shortDigest } from '../oci/digest.js';
import { markdownCode } from './escape.js';
import type { GenerateFailure } from '../plan/image-task.js';
import type { PlanEntry, RemovedEntry } from '../plan/planner.js';

/** The result of `planJob`: one entry per image, the lock entries no longer produced, invalid rules, warnings. */
export interface PlanReport {
  readonly entries: readonly PlanEntry[];
  readonly removed: readonly RemovedEntry[];
  readonly generateFailures: readonly GenerateFailure[];
  readonly warnings: readonly string[];
}

export interface PlanCounts {
  readonly new: number;
  readonly changed: number;
  readonly unchanged: number;
  /** Left out by a platform filter. */
  readonly skipped: number;
  readonly failed: number;
  readonly removed: number;
  readonly generateFailed: number;
}

export function planCounts(report: PlanReport): PlanCounts {
  const count = (s: PlanEntry['status']) => report.entries.filter((e) => e.status === s).length;
  return {
    new: count('new'),
    changed: count('changed'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed: count('failed'),
    removed: report.removed.length,
    generateFailed: report.generateFailures.length,
  };
}

/**
 * Every value in the plan (references with registry-chosen tags, digests, error text) is a code span: GitHub
 * renders the plan in a pull-request comment, where a registry's text must not become a link, image, heading,
 * HTML or @-mention (docs/security.md).
 */
const cell = markdownCode;
const digestCell = (digest: string | undefined): string => cell(shortDigest(digest ?? ''));

const ORDER: Record<PlanEntry['status'], number> = { failed: 0, changed: 1, new: 2, unchanged: 3, skipped: 4 };

/**
 * The plan as Markdown (GitHub renders it in a PR comment or job summary; it also reads well in a terminal):
 * a summary line, then one row per image, changes first, then lock entries the job no longer produces.
 */
export function formatPlanMarkdown(report: PlanReport, options: { readonly maxRows?: number } = {}): string {
  const c = planCounts(report);
  const referrersMissing = report.entries.reduce((n, e) => n + (e.referrers?.missing ?? 0), 0);
  const lines = [
    `**swr-sync plan**: ${c.new} new, ${c.changed} changed, ${c.unchanged} unchanged, ${c.removed} removed from the lock file` +
      `${c.skipped ? `, ${c.skipped} skipped by the platform filter` : ''}${c.failed ? `, ${c.failed} failed` : ''}${c.generateFailed ? `, ${c.generateFailed} rules could not be resolved` : ''}` +
      `${referrersMissing ? `, ${referrersMissing} referrers (signatures, attestations, SBOMs) to copy` : ''}`,
    '',
  ];
  const rows = [...report.entries].sort(
    (a, b) => ORDER[a.status] - ORDER[b.status] || a.destination.localeCompare(b.destination),
  );
  const max = options.maxRows ?? Number.POSITIVE_INFINITY;
  if (rows.length > 0) {
    lines.push('| status | source | destination | digest |', '| --- | --- | --- | --- |');
    for (const e of rows.slice(0, max)) {
      const digest =
        e.status === 'changed'
          ? `${digestCell(e.currentDigest)} → ${digestCell(e.digest)}`
          : e.status === 'failed'
            ? cell(e.error?.message ?? '')
            : e.status === 'skipped'
              ? cell(e.note ?? '')
              : digestCell(e.digest);
      const r = e.referrers;
      const referrers =
        r && r.found + r.skipped > 0
          ? ` (referrers: ${r.found}${r.missing ? `, ${r.missing} to copy` : ''}${r.skipped ? `, ${r.skipped} skipped by the platform filter` : ''})`
          : '';
      lines.push(`| ${e.status} | ${cell(e.source)} | ${cell(e.destination)} | ${digest}${referrers} |`);
    }
    if (rows.length > max) lines.push(`| … | ${rows.length - max} more | | |`);
  }
  if (report.removed.length > 0) {
    lines.push('', 'Removed from the lock file (no longer in the job; the images stay in the registry):', '');
    for (const r of report.removed.slice(0, max))
      lines.push(`- ${cell(r.destination)} (${digestCell(r.entry.digest)})`);
    if (report.removed.length > max) lines.push(`- … ${report.removed.length - max} more`);
  }
  for (const f of report.generateFailures)
    lines.push('', `Could not resolve ${cell(f.rule.key)} in ${cell(f.rule.file)}: ${cell(f.error.message)}`);
  for (const w of report.warnings) lines.push('', `Note: ${cell(w)}`);
  return `${lines.join('\n')}\n`;
}
