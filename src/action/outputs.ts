import * as core from '@actions/core';
import { digestProblem } from '../oci/digest.js';
import type { PlanEntry } from '../plan/planner.js';
import type { ImageResult } from '../engine/image-result.js';
import { planCounts, type PlanReport } from '../results/plan-report.js';

/**
 * The step's outputs (docs/action.md): `digests` (destination reference → digest), `digest` (exactly one image),
 * `images` (every per-image result), `changed` (images copied, or in plan mode that a sync would copy) and, in plan
 * mode, `plan` (the Markdown plan).
 */
export interface ActionOutputs {
  readonly digests: Readonly<Record<string, string>>;
  readonly digest?: string;
  readonly images: readonly unknown[];
  readonly changed: number;
  readonly plan?: string;
}

/**
 * Workflows interpolate `digest` and `digests` into `run:` steps, so only a well-formed digest (`sha256:` and 64
 * hex characters) is ever given; the client already refuses any other from a registry (docs/security.md).
 */
function validDigest(digest: string | undefined): string | undefined {
  return digest !== undefined && digestProblem(digest) === undefined ? digest : undefined;
}

function sortedDigests(pairs: ReadonlyArray<readonly [string, string | undefined]>): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [destination, digest] of [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const valid = validDigest(digest);
    if (valid) digests[destination] = valid;
  }
  return digests;
}

/** After a sync: the digests stored at the destinations (failed images have none). */
export function syncOutputs(results: readonly ImageResult[]): ActionOutputs {
  const only = results.length === 1 ? validDigest(results[0]!.digest) : undefined;
  return {
    digests: sortedDigests(
      results
        .filter((r) => r.status === 'copied' || r.status === 'unchanged')
        .map((r) => [r.destination, r.digest] as const),
    ),
    ...(only ? { digest: only } : {}),
    images: results,
    changed: results.filter((r) => r.status === 'copied').length,
  };
}

/** A plan entry as the `images` output gives it: the fields of a sync result that a plan knows. */
function planImage(entry: PlanEntry): Record<string, unknown> {
  const { rule, ...rest } = entry;
  return { ...rest, ...(rule.id !== undefined ? { id: rule.id } : {}) };
}

/** After a plan: the digests the destinations would hold after a sync. */
export function planOutputs(report: PlanReport, markdown: string): ActionOutputs {
  const entries = report.entries;
  const only = entries.length === 1 && entries[0]!.status !== 'failed' ? validDigest(entries[0]!.digest) : undefined;
  const counts = planCounts(report);
  return {
    digests: sortedDigests(
      entries
        .filter((e) => e.status !== 'failed' && e.status !== 'skipped')
        .map((e) => [e.destination, e.digest] as const),
    ),
    ...(only ? { digest: only } : {}),
    images: entries.map(planImage),
    changed: counts.new + counts.changed,
    plan: markdown,
  };
}

export function setOutputs(
  outputs: ActionOutputs,
  setOutput: (name: string, value: string) => void = core.setOutput,
): void {
  setOutput('digests', JSON.stringify(outputs.digests));
  if (outputs.digest !== undefined) setOutput('digest', outputs.digest);
  setOutput('images', JSON.stringify(outputs.images));
  setOutput('changed', String(outputs.changed));
  if (outputs.plan !== undefined) setOutput('plan', outputs.plan);
}
