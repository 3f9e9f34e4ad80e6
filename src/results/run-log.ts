import { appendFile } from 'node:fs/promises';
import type { GenerateFailure } from '../plan/image-task.js';
import type { ImageResult } from './image-result.js';

/**
 * The `--log` file: one line per image (and per rule that could not be resolved), appended as results arrive, so
 * a long migration leaves a record even when interrupted. Messages carry no secrets by construction (errors
 * never include credentials).
 */
export class RunLog {
  private queue: Promise<void> = Promise.resolve();
  constructor(readonly file: string) {}

  start(what: string): void {
    this.write(`${new Date().toISOString()} start ${what}`);
  }

  image(r: ImageResult): void {
    const parts = [new Date().toISOString(), r.status, `${r.source} -> ${r.destination}`];
    if (r.digest) parts.push(r.digest);
    parts.push(`transferred=${r.bytesTransferred}`, `skipped=${r.bytesSkipped}`, `duration_ms=${r.durationMs}`);
    if (r.platforms.length) parts.push(`platforms=${r.platforms.join(',')}`);
    if (r.error) parts.push(`error=${r.error.code}: ${r.error.message}`);
    this.write(parts.join(' '));
  }

  generateFailure(f: GenerateFailure): void {
    this.write(`${new Date().toISOString()} generate-failed ${f.source} (${f.rule.file}: "${f.rule.key}") error=${f.error.code}: ${f.error.message}`);
  }

  line(text: string): void {
    this.write(`${new Date().toISOString()} ${text}`);
  }

  private write(line: string): void {
    this.queue = this.queue.then(() => appendFile(this.file, `${line.replace(/[\r\n]+/g, ' ')}\n`));
  }

  /** Resolves when every line is on disk; rejects if the file could not be written. */
  flush(): Promise<void> {
    return this.queue;
  }
}
