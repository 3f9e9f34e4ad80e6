import type { GenerateFailure } from '../plan/image-task.js';
import { formatBytes, formatDuration } from './format.js';
import type { ImageResult } from '../engine/image-result.js';

/** The counts of a sync: images by status, bytes, time and retries. */
export interface RunSummary {
  readonly images: number;
  readonly copied: number;
  readonly unchanged: number;
  /** Left out by a platform filter (ImageStatus `skipped`). */
  readonly skipped: number;
  readonly failed: number;
  readonly generateFailed: number;
  readonly bytesTransferred: number;
  readonly bytesSkipped: number;
  readonly durationMs: number;
  /** Requests and blob transfers tried again after a transient failure (429, 5xx, connection loss, stall). */
  readonly retries: number;
}

export function summarize(
  results: readonly ImageResult[],
  failures: readonly GenerateFailure[],
  durationMs: number,
  retries = 0,
): RunSummary {
  return {
    images: results.length,
    copied: results.filter((r) => r.status === 'copied').length,
    unchanged: results.filter((r) => r.status === 'unchanged').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
    generateFailed: failures.length,
    bytesTransferred: results.reduce((n, r) => n + r.bytesTransferred, 0),
    bytesSkipped: results.reduce((n, r) => n + r.bytesSkipped, 0),
    durationMs,
    retries,
  };
}

/** image-migrator's closing line, kept verbatim so scripts that grep it keep working. */
export function finishingLine(s: RunSummary): string {
  return `Images(${s.images}) migration finished, ${s.failed} images tasks failed, ${s.generateFailed} tasks generate failed`;
}

export function summaryTable(s: RunSummary): string {
  const head = ['copied', 'unchanged', 'skipped', 'failed', 'bytes transferred', 'bytes skipped', 'time', 'retries'];
  const row = [
    String(s.copied),
    String(s.unchanged),
    String(s.skipped),
    String(s.failed),
    formatBytes(s.bytesTransferred),
    formatBytes(s.bytesSkipped),
    formatDuration(s.durationMs),
    String(s.retries),
  ];
  const width = head.map((h, i) => Math.max(h.length, row[i]!.length));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, line(row)].join('\n');
}
