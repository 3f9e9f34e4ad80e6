import { SwrSyncError } from '../errors.js';

/**
 * A signal that aborts when `outer` does, or after `ms` milliseconds with a typed reason naming how the user set the
 * limit (`--timeout`, `timeout input`). Not `AbortSignal.any([outer, timeout])`: on Node 20 a composite signal holds
 * its sources weakly, and a run under memory pressure (a registry sending endless bodies) was seen never to end. Here
 * the pending timer holds the controller for as long as the deadline can fire.
 */
export function deadlineSignal(outer: AbortSignal | undefined, ms: number, setBy: string): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SwrSyncError('ERR_ABORTED', `the run reached its time limit (${setBy})`)), ms);
  timer.unref();
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return controller.signal;
}
