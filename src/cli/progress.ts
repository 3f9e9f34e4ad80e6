import type { ImageTask } from '../plan/image-task.js';
import { formatBytes } from '../results/format.js';
import type { ImageResult } from '../engine/image-result.js';
import { printable } from '../results/escape.js';

interface LiveRenderer {
  (text: string): void;
  done(): void;
}

export interface ProgressOptions {
  readonly total: number;
  readonly stream?: NodeJS.WriteStream;
  /** Plain lines instead of a live display (no TTY, or CI=true). */
  readonly plain?: boolean;
  /** Seconds between plain lines. @default 5 */
  readonly intervalSeconds?: number;
}

/**
 * Progress on stderr, so stdout stays clean for `--json`: a live display on a terminal (log-update redraws it in
 * place), a plain line every few seconds in CI logs.
 */
export class Progress {
  private done = 0;
  private failed = 0;
  private bytes = 0;
  private readonly started = Date.now();
  private readonly current = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly stream: NodeJS.WriteStream;
  private readonly live: LiveRenderer | undefined;

  /** Plain lines (no live display): the caller prints each image's line as it finishes. */
  get plain(): boolean {
    return this.live === undefined;
  }

  /** log-update is loaded only for a terminal: CI runs and `--json` pipelines do not pay for it at start-up. */
  static async start(options: ProgressOptions): Promise<Progress> {
    const stream = options.stream ?? process.stderr;
    const plain = options.plain ?? (!stream.isTTY || process.env.CI === 'true');
    const live = plain ? undefined : (await import('log-update')).createLogUpdate(stream, { showCursor: true });
    return new Progress(options, stream, live);
  }

  private constructor(
    private readonly options: ProgressOptions,
    stream: NodeJS.WriteStream,
    live: LiveRenderer | undefined,
  ) {
    this.stream = stream;
    this.live = live;
    this.timer = setInterval(() => this.render(), live ? 100 : (options.intervalSeconds ?? 5) * 1000);
    this.timer.unref();
  }

  imageStarted(task: ImageTask): void {
    this.current.add(label(task));
  }

  imageFinished(task: ImageTask, result: ImageResult): void {
    this.current.delete(label(task));
    this.done++;
    if (result.status === 'failed') this.failed++;
  }

  addBytes(n: number): void {
    this.bytes += n;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.live) {
      this.render();
      this.live.done();
    }
  }

  private line(): string {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    return `${this.done}/${this.options.total} images${this.failed ? ` (${this.failed} failed)` : ''}, ${formatBytes(this.bytes)} transferred, ${formatBytes(this.bytes / seconds)}/s`;
  }

  private render(): void {
    if (this.live) {
      const current = [...this.current].slice(0, 5).map((c) => `  ${c}`);
      const more = this.current.size > 5 ? [`  … and ${this.current.size - 5} more`] : [];
      this.live([this.line(), ...current, ...more].join('\n'));
    } else if (this.done < this.options.total) {
      this.stream.write(`progress: ${this.line()}\n`);
    }
  }
}

function label(task: ImageTask): string {
  return printable(`${task.source} -> ${task.destination}`);
}
