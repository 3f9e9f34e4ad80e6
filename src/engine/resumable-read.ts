import { Readable } from 'node:stream';
import type { ImageStore } from '../store/image-store.js';
import { isRetryable, sleep, backoffDelay, type RetryPolicy } from '../client/retry.js';
import { SwrSyncError } from '../errors.js';
import type { BlobSpool } from './blob-spool.js';

/**
 * A blob read that survives dropped connections: when the body fails (or ends early) after some bytes, the read
 * continues from the next byte with `Range: bytes=N-` (RFC 9110 §14.2; distribution-spec "Pulling blobs" allows a
 * registry to support it), and the caller sees one continuous stream. Whatever hashes the stream downstream keeps
 * its state, so nothing already verified is read or hashed twice.
 *
 * A server may ignore the range and send the whole blob (`200`, RFC 9110 §14.2: a server MAY ignore Range). Up to
 * `discardLimit` bytes are then read and dropped; a longer prefix is not worth it (repeated cuts would make the
 * transfer quadratic) and the read fails with a retryable `ERR_RANGE_IGNORED`, so the whole transfer starts over
 * once, from byte 0, where no range is asked for.
 */

export interface ResumableReadOptions {
  readonly store: Pick<ImageStore, 'getBlob'>;
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  /** The blob's size (from its descriptor). */
  readonly size: number;
  /** First byte to read. @default 0 */
  readonly offset?: number;
  readonly retry: RetryPolicy;
  /** Longest prefix read and dropped when a range request is answered from byte 0. @default 8 MiB */
  readonly discardLimit?: number;
  /** Told of every resume: the offset it continues from. */
  readonly onResume?: (offset: number) => void;
  readonly signal?: AbortSignal;
}

/** Resumes in a row without a single new byte in between before the read gives up (besides `retry.retries`). */
const MAX_RESUMES = 1000;
export const DEFAULT_DISCARD_LIMIT = 8 * 1024 * 1024;

/** The blob's bytes from `offset` to the end, resumed across failures; see the module comment. */
export function resumableRead(options: ResumableReadOptions): Readable {
  return Readable.from(chunksOf(options), { objectMode: false });
}

async function* chunksOf(options: ResumableReadOptions): AsyncGenerator<Buffer> {
  const { store, registry, repository, digest, size, retry } = options;
  const discardLimit = options.discardLimit ?? DEFAULT_DISCARD_LIMIT;
  let position = options.offset ?? 0;
  // Failures since the last byte received: a link that drops every few MiB still finishes, a dead one does not.
  let idleFailures = 0;
  let resumes = 0;
  for (;;) {
    let failure: unknown;
    try {
      const opened = await store.getBlob(registry, repository, digest, position);
      try {
        const starts = opened.offset ?? 0;
        let skip = position - starts;
        if (skip < 0 || skip > discardLimit) {
          throw new SwrSyncError(
            'ERR_RANGE_IGNORED',
            `blob ${digest} from ${registry}/${repository}: asked for bytes from ${position}, the registry sent them from ${starts}; the transfer starts over`,
            { registry, repository, retryable: true },
          );
        }
        for await (const data of opened.body as AsyncIterable<Buffer>) {
          let chunk = data;
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          if (chunk.length === 0) continue;
          position += chunk.length;
          idleFailures = 0;
          yield chunk;
        }
      } finally {
        opened.body.destroy();
      }
    } catch (error) {
      // Not resumable from here: the transfer as a whole starts over (or fails).
      if ((error as { code?: unknown }).code === 'ERR_RANGE_IGNORED' || position === (options.offset ?? 0)) throw error;
      failure = error;
    }
    // Past the end is the verifier's to report (a size mismatch), as is a short blob that ends cleanly at its size.
    if (failure === undefined && position >= size) return;
    if (failure === undefined) {
      failure = new SwrSyncError(
        'ERR_REGISTRY_RESPONSE',
        `blob ${digest} from ${registry}/${repository} ended after ${position} of ${size} bytes`,
        { registry, repository, retryable: true },
      );
    }
    if (options.signal?.aborted || !isRetryable(failure) || idleFailures >= retry.retries || ++resumes > MAX_RESUMES)
      throw failure;
    retry.onRetry?.();
    // A connection that dropped after making progress is tried again at once; one that keeps failing backs off.
    if (idleFailures > 0) await sleep(backoffDelay(retry, idleFailures - 1), options.signal);
    idleFailures++;
    options.onResume?.(position);
  }
}

/**
 * One blob read shared by the attempts of a resumable upload. A resumed upload asks for the bytes again from an
 * offset a little behind what was read (what was in flight to the registry when the connection dropped). The last
 * `historyBytes` read are kept, so such a resume is served from memory and the read goes on where it was, instead
 * of the source being asked again for what it already sent (and what was on its way being thrown away).
 *
 * With a `spool` (blob-spool.ts) every byte read is also written to disk, so an upload that starts over from byte 0
 * (a registry that lost the session) or resumes further back than the history is served from the file up to where
 * the read has got, and only then from the source. Without one (or once it failed), an offset further back than the
 * history opens a new ranged read of the source.
 *
 * The history is a copy in one ring buffer allocated once, not the read's own chunks: chunks kept for 8 MiB of
 * reading outlive V8's young-generation collections, are promoted, and are then freed only by a full collection,
 * which V8 starts after about 64 MiB more of such memory; a 1 GiB copy peaked 25-30 MiB higher that way.
 */
export class RewindableRead {
  private reader: AsyncIterator<Buffer> | undefined;
  private readerStream: Readable | undefined;
  /** Bytes of the blob pulled from the reader so far (its position). */
  private position = 0;
  /** The last `historyLength` bytes read end at `position`; byte `p` of the blob is at `ring[p % historyBytes]`. */
  private ring: Buffer | undefined;
  private historyLength = 0;
  private pending: Promise<unknown> = Promise.resolve();
  private generation = 0;
  /** The source answered a range request with the whole blob (ERR_RANGE_IGNORED). */
  private rangeIgnored = false;

  constructor(
    private readonly options: ResumableReadOptions,
    private readonly historyBytes: number,
    /** Where the bytes read are kept on disk, when the caller could create one. Not closed here. */
    private readonly spool?: Pick<BlobSpool, 'usable' | 'end' | 'append' | 'settled' | 'read' | 'discard'>,
  ) {}

  /** The blob's bytes from `offset` on; a stream opened earlier stops yielding. */
  open(offset: number): Readable {
    const generation = ++this.generation;
    return Readable.from(this.from(offset, generation), { objectMode: false });
  }

  /** Stops the read (the transfer is over, or failed). */
  close(): void {
    this.generation++;
    this.dropReader();
  }

  private dropReader(): void {
    this.readerStream?.destroy();
    this.reader = undefined;
    this.readerStream = undefined;
  }

  private inHistory(offset: number): boolean {
    return this.reader !== undefined && offset <= this.position && offset >= this.position - this.historyLength;
  }

  private async *from(offset: number, generation: number): AsyncGenerator<Buffer> {
    await this.pending.catch(() => undefined);
    await this.spool?.settled();
    let at = offset;
    // A source that ignores Range sends the whole blob whatever is asked: the file would not spare a byte of it.
    if (this.rangeIgnored) await this.spool?.discard();
    // Memory first, then the disk, for what the read has passed already; the source only for what is new.
    if (!this.inHistory(at) && this.spool?.usable && at < this.spool.end) {
      // Only the file's own failure drops it: an error thrown in at `yield` (the upload was cut) is the consumer's.
      const pieces = this.spool.read(at);
      try {
        for (;;) {
          let piece: IteratorResult<Buffer>;
          try {
            piece = await pieces.next();
          } catch {
            // The file failed to read back: the source sends the rest, from where the file stopped.
            await this.spool.discard();
            break;
          }
          if (piece.done) break;
          if (generation !== this.generation) return;
          at += piece.value.length;
          yield piece.value;
        }
      } finally {
        await pieces.return(undefined).catch(() => undefined);
      }
    }
    if (!this.inHistory(at)) {
      if (generation !== this.generation) return;
      this.dropReader();
      this.readerStream = resumableRead({ ...this.options, offset: at });
      this.reader = this.readerStream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      this.position = at;
      this.historyLength = 0;
    } else {
      // Replay from memory what lies between `at` and the reader's position: copies, as the ring is written on.
      for (let from = at; from < this.position;) {
        const ringAt = from % this.historyBytes;
        const length = Math.min(this.position - from, this.historyBytes - ringAt);
        if (generation !== this.generation) return;
        yield Buffer.from(this.ring!.subarray(ringAt, ringAt + length));
        from += length;
      }
    }
    for (;;) {
      // One spool write in flight at most: a disk slower than the link slows the read, it does not fill memory.
      await this.spool?.settled();
      if (generation !== this.generation || !this.reader) return;
      const next = this.reader.next();
      this.pending = next;
      let step: IteratorResult<Buffer>;
      try {
        step = await next;
      } catch (error) {
        // The read is over (resumableRead gave up): a later stream starts a new one.
        if ((error as { code?: unknown }).code === 'ERR_RANGE_IGNORED') this.rangeIgnored = true;
        if (generation === this.generation) this.dropReader();
        throw error;
      }
      const { value, done } = step;
      if (done) return;
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value);
      // Kept synchronously with the position, so a stream opened meanwhile finds history, spool and position agree.
      this.remember(chunk);
      if (this.spool?.usable && this.spool.end === this.position) this.spool.append(chunk);
      this.position += chunk.length;
      // A chunk pulled for a stream that was replaced stays in the history for its successor.
      if (generation !== this.generation) return;
      yield chunk;
    }
  }

  /** Copies `chunk`, which ends the read so far at `position + chunk.length`, into the ring. */
  private remember(chunk: Buffer): void {
    const size = this.historyBytes;
    if (size <= 0) return;
    this.ring ??= Buffer.allocUnsafe(size);
    const data = chunk.length > size ? chunk.subarray(chunk.length - size) : chunk;
    const at = (this.position + chunk.length - data.length) % size;
    const first = Math.min(data.length, size - at);
    data.copy(this.ring, at, 0, first);
    if (first < data.length) data.copy(this.ring, 0, first);
    this.historyLength = Math.min(size, this.historyLength + chunk.length);
  }
}
