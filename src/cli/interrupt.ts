import { setMaxListeners } from 'node:events';
import { SwrSyncError } from '../errors.js';

/** Exit statuses after a signal, as shells report them: 128 + the signal number. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type InterruptSignal = keyof typeof SIGNAL_EXIT_CODES;

/**
 * Ctrl-C and SIGTERM (a CI runner cancelling the job, `kill`, Kubernetes stopping a pod) during a copy: the first
 * one aborts `signal`, so no new image or blob starts and transfers under way are cut; the command then removes its
 * temporary files, reports what completed, writes the lock for it and exits with 130 / 143. A second signal exits
 * at once: spools in the temp dir are removed as the process exits (blob-spool.ts), what else is left behind by the
 * next run (docs/transfers.md).
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private received: InterruptSignal | undefined;
  private readonly handlers = new Map<InterruptSignal, () => void>();

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {
    // Every request of the run listens to this signal.
    setMaxListeners(0, this.controller.signal);
    for (const name of Object.keys(SIGNAL_EXIT_CODES) as InterruptSignal[]) {
      const handler = (): void => this.receive(name);
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  /** Aborted by the first signal; its reason is an `ERR_ABORTED` error naming the signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The signal received, if any. */
  get by(): InterruptSignal | undefined {
    return this.received;
  }

  /** The exit status for the signal received, or `otherwise`. */
  exitCode(otherwise: number): number {
    return this.received ? SIGNAL_EXIT_CODES[this.received] : otherwise;
  }

  /** Stops listening: a signal after the run is over gets the default behaviour again. */
  dispose(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
    this.handlers.clear();
  }

  private receive(name: InterruptSignal): void {
    if (this.received) {
      this.stream.write(`swr-sync: ${name} again: exiting now (temporary files are removed by the next run)\n`);
      process.exit(SIGNAL_EXIT_CODES[name]);
    }
    this.received = name;
    this.stream.write(
      `swr-sync: ${name} received: stopping (images that completed are kept and reported; ${name} again exits at once)\n`,
    );
    this.controller.abort(new SwrSyncError('ERR_ABORTED', `the run was interrupted (${name})`));
  }
}
