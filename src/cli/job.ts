import { RegistryClient, Transport } from '../client/registry-client.js';
import { expandRules } from '../plan/expand.js';
import type { ExpandedJob } from '../plan/image-task.js';
import { planTasks, removedFromLock } from '../plan/planner.js';
import type { PlanReport } from '../results/plan-report.js';
import { lockScope, loadSyncInputs, type SyncFlags, type SyncInputs } from './sync-inputs.js';

/** A loaded, validated job with its registry clients; `close()` releases the connections. */
export interface Job {
  readonly inputs: SyncInputs;
  readonly source: RegistryClient;
  readonly destination: RegistryClient;
  readonly expanded: ExpandedJob;
  close(): Promise<void>;
}

/** Inputs first (exit 2 before any request), then rules → tasks (tag lists are read here). */
export async function openJob(flags: SyncFlags): Promise<Job> {
  const inputs = await loadSyncInputs(flags);
  const transport = new Transport();
  const retry = { retries: flags.retries };
  const source = new RegistryClient({ credentials: inputs.credentials, transport, retry });
  const destination = new RegistryClient({ credentials: inputs.credentials, transport, retry });
  try {
    const expanded = await expandRules(inputs.rules, source, inputs.platforms ? { platforms: inputs.platforms } : {});
    return { inputs, source, destination, expanded, close: () => transport.close() };
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/** Source repositories whose rules could not be resolved: their lock entries are left alone. */
export function unresolvedSources(job: Job): Set<string> {
  return new Set(job.expanded.failures.map((f) => f.source));
}

export async function buildPlan(job: Job): Promise<PlanReport> {
  const entries = await planTasks(job.expanded.tasks, job, job.inputs.lock);
  const removed = removedFromLock(job.inputs.lock, job.expanded.tasks, lockScope(job.inputs.shard, unresolvedSources(job)));
  return { entries, removed, generateFailures: job.expanded.failures, warnings: job.expanded.warnings };
}
