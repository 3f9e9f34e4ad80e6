import { shortDigest } from '../oci/digest.js';
import type { GenerateFailure } from '../plan/image-task.js';
import type { PlanEntry } from '../plan/planner.js';
import { formatBytes, formatDuration } from '../results/format.js';
import type { ImageResult } from '../engine/image-result.js';
import { htmlText } from '../results/escape.js';
import { planCounts, type PlanReport } from '../results/plan-report.js';
import type { RunSummary } from '../results/run-summary.js';

/**
 * The job summary (GITHUB_STEP_SUMMARY): a heading, one line of counts and a small HTML table — source →
 * destination, short digest, platforms, status, bytes copied / skipped. Every value is HTML-escaped, and the table
 * is bounded: past `maxRows` rows (changes and failures first) one row gives the count of the rest, which the
 * `images` output still holds in full.
 */

export const SUMMARY_MAX_ROWS = 50;
/** Notes under the table (rules that could not be resolved, warnings), at most this many of each. */
const NOTES_MAX = 20;
const MESSAGE_MAX = 300;

/**
 * One line of HTML text: no line break survives, so a registry's text cannot end the summary's HTML block with a
 * blank line and have the rest rendered as Markdown (docs/security.md).
 */
export const escapeHtml = htmlText;

function truncate(text: string, max = MESSAGE_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

interface Row {
  readonly source: string;
  readonly destination: string;
  /** Already escaped HTML. */
  readonly digest: string;
  readonly platforms: readonly string[];
  readonly status: string;
  readonly error?: string;
  readonly bytes?: { readonly transferred: number; readonly skipped: number };
  readonly rank: number;
}

interface Table {
  readonly heading: string;
  readonly counts: string;
  readonly rows: readonly Row[];
  readonly withBytes: boolean;
  /** "12 copied, 3 unchanged" for the rows left out. */
  readonly describeRest: (rows: readonly Row[]) => string;
  readonly notes: readonly string[];
  readonly maxRows: number;
}

const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

function renderTable(t: Table): string {
  const rows = [...t.rows].sort((a, b) => a.rank - b.rank || a.destination.localeCompare(b.destination));
  const shown = rows.slice(0, t.maxRows);
  const rest = rows.slice(t.maxRows);
  const head = ['source → destination', 'digest', 'platforms', 'status', ...(t.withBytes ? ['copied / skipped'] : [])];
  const lines = [`### ${escapeHtml(t.heading)}`, '', `<p>${t.counts}</p>`, ''];
  if (rows.length > 0) {
    lines.push('<table>', `<tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`);
    for (const r of shown) {
      const status = r.error ? `${escapeHtml(r.status)}: ${escapeHtml(truncate(r.error))}` : escapeHtml(r.status);
      const cells = [
        `${code(r.source)} → ${code(r.destination)}`,
        r.digest,
        escapeHtml(r.platforms.join(', ')),
        status,
        ...(t.withBytes
          ? [
              r.bytes
                ? `${escapeHtml(formatBytes(r.bytes.transferred))} / ${escapeHtml(formatBytes(r.bytes.skipped))}`
                : '',
            ]
          : []),
      ];
      lines.push(`<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`);
    }
    if (rest.length > 0) {
      lines.push(
        `<tr><td colspan="${head.length}">… and ${rest.length} more (${escapeHtml(t.describeRest(rest))}): the <code>images</code> output lists every image</td></tr>`,
      );
    }
    lines.push('</table>', '');
  }
  const notes = t.notes.slice(0, NOTES_MAX);
  if (t.notes.length > notes.length) notes.push(`… and ${t.notes.length - notes.length} more (see the log)`);
  for (const note of notes) lines.push(`<p>${note}</p>`);
  return `${lines.join('\n').trimEnd()}\n`;
}

function countBy(rows: readonly Row[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

function failureNotes(failures: readonly GenerateFailure[], warnings: readonly string[]): string[] {
  return [
    ...failures.map(
      (f) =>
        `Could not resolve ${code(f.rule.key)} (${escapeHtml(f.rule.file)}): ${escapeHtml(truncate(f.error.message))}`,
    ),
    ...warnings.map((w) => `Note: ${escapeHtml(truncate(w))}`),
  ];
}

const SYNC_RANK: Record<ImageResult['status'], number> = { failed: 0, copied: 1, unchanged: 2, skipped: 3 };

export interface SyncSummaryInput {
  readonly results: readonly ImageResult[];
  readonly summary: RunSummary;
  readonly failures: readonly GenerateFailure[];
  readonly warnings: readonly string[];
  /** Lock file as shown to the user, when one was written. */
  readonly lockFile?: string;
  readonly maxRows?: number;
}

export function syncSummaryHtml(input: SyncSummaryInput): string {
  const s = input.summary;
  const counts = [
    `${s.copied} copied, ${s.unchanged} unchanged, ${s.skipped ? `${s.skipped} skipped (platform filter), ` : ''}${s.failed} failed`,
    s.generateFailed ? `, ${s.generateFailed} rules could not be resolved` : '',
    ` · ${formatBytes(s.bytesTransferred)} transferred, ${formatBytes(s.bytesSkipped)} skipped · ${formatDuration(s.durationMs)}`,
  ].join('');
  const rows: Row[] = input.results.map((r) => ({
    source: r.source,
    destination: r.destination,
    digest: r.digest ? code(shortDigest(r.digest)) : '',
    platforms: r.platforms,
    status: r.status,
    ...(r.error ? { error: r.error.message } : {}),
    ...(r.status !== 'failed' && r.status !== 'skipped'
      ? { bytes: { transferred: r.bytesTransferred, skipped: r.bytesSkipped } }
      : {}),
    rank: SYNC_RANK[r.status],
  }));
  const notes = failureNotes(input.failures, input.warnings);
  if (input.lockFile) notes.push(`Lock file ${code(input.lockFile)} updated.`);
  return renderTable({
    heading: 'swr-sync sync',
    counts: escapeHtml(counts),
    rows,
    withBytes: true,
    describeRest: countBy,
    notes,
    maxRows: input.maxRows ?? SUMMARY_MAX_ROWS,
  });
}

const PLAN_RANK: Record<PlanEntry['status'], number> = { failed: 0, changed: 1, new: 2, unchanged: 3, skipped: 4 };

export function planSummaryHtml(report: PlanReport, options: { readonly maxRows?: number } = {}): string {
  const c = planCounts(report);
  const counts =
    `${c.new} new, ${c.changed} changed, ${c.unchanged} unchanged, ${c.failed} failed, ${c.removed} removed from the lock file` +
    (c.generateFailed ? `, ${c.generateFailed} rules could not be resolved` : '') +
    ' · nothing was copied';
  const rows: Row[] = report.entries.map((e) => ({
    source: e.source,
    destination: e.destination,
    digest:
      e.status === 'changed' && e.currentDigest
        ? `${code(shortDigest(e.currentDigest))} → ${code(shortDigest(e.digest ?? ''))}`
        : e.digest
          ? code(shortDigest(e.digest))
          : '',
    platforms: e.platforms ?? [],
    status: e.status,
    ...(e.error ? { error: e.error.message } : {}),
    rank: PLAN_RANK[e.status],
  }));
  const notes = failureNotes(report.generateFailures, report.warnings);
  if (report.removed.length > 0) {
    const shown = report.removed
      .slice(0, NOTES_MAX)
      .map((r) => code(r.destination))
      .join(', ');
    const more = report.removed.length > NOTES_MAX ? ` and ${report.removed.length - NOTES_MAX} more` : '';
    notes.unshift(
      `Removed from the lock file (no longer in the job; the images stay in the registry): ${shown}${more}`,
    );
  }
  return renderTable({
    heading: 'swr-sync plan',
    counts: escapeHtml(counts),
    rows,
    withBytes: false,
    describeRest: countBy,
    notes,
    maxRows: options.maxRows ?? SUMMARY_MAX_ROWS,
  });
}
