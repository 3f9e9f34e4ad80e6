import { Transform, type TransformCallback } from 'node:stream';
import { ContentMismatchError } from '../errors.js';
import { Digester, digestAlgorithm } from '../oci/digest.js';

/**
 * Passes blob bytes through while computing their digest and size, and fails the stream when either differs from
 * the descriptor (image-spec descriptor.md: "the content MUST be verified against the digest"). The last chunk is
 * held back until the digest is checked, so a destination never receives the complete bytes of a corrupt blob.
 */
export class VerifyStream extends Transform {
  private readonly digester: Digester;
  /** Bytes before this offset are hashed, not passed on (a resumed upload re-reads from a checkpoint before it). */
  private readonly skipUntil: number;
  private readonly checkpoints: HashCheckpoints | undefined;
  private held: Buffer | undefined;
  private readonly expectedDigest: string;
  private readonly expectedSize: number;
  private readonly where: { registry: string; repository: string };
  onBytes: ((n: number) => void) | undefined;

  /**
   * `resume`: the stream starts at `resume.from.offset` with the digest state there, and passes on bytes from
   * `resume.skipUntil` only. `checkpoints`: where the digest state is recorded as the bytes go by.
   */
  constructor(
    expectedDigest: string,
    expectedSize: number,
    where: { registry: string; repository: string },
    options: { resume?: { from: Checkpoint; skipUntil: number }; checkpoints?: HashCheckpoints } = {},
  ) {
    super();
    this.expectedDigest = expectedDigest;
    this.expectedSize = expectedSize;
    this.where = where;
    this.digester = options.resume
      ? options.resume.from.digester.copy()
      : new Digester(digestAlgorithm(expectedDigest));
    this.skipUntil = options.resume?.skipUntil ?? 0;
    this.checkpoints = options.checkpoints;
  }

  /** Where this stream's bytes start in the blob. */
  get startsAt(): number {
    return this.skipUntil;
  }

  get bytes(): number {
    return this.digester.bytes;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const position = this.digester.bytes;
    this.hash(data);
    // What lies before `skipUntil` was sent already: hashed (to reach the state there), not passed on.
    const chunk = position >= this.skipUntil ? data : data.subarray(Math.min(data.length, this.skipUntil - position));
    if (chunk.length === 0 && this.digester.bytes <= this.expectedSize) {
      callback();
      return;
    }
    if (this.digester.bytes > this.expectedSize) {
      callback(this.mismatch('ERR_SIZE_MISMATCH', this.expectedSize, `more than ${this.expectedSize} bytes`));
      return;
    }
    const previous = this.held;
    this.held = chunk;
    if (previous) {
      this.onBytes?.(previous.length);
      this.push(previous);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.digester.bytes !== this.expectedSize) {
      callback(this.mismatch('ERR_SIZE_MISMATCH', this.expectedSize, `${this.digester.bytes} bytes`));
      return;
    }
    const digest = this.digester.digest();
    if (digest !== this.expectedDigest) {
      callback(this.mismatch('ERR_DIGEST_MISMATCH', this.expectedDigest, digest));
      return;
    }
    if (this.held) {
      this.onBytes?.(this.held.length);
      this.push(this.held);
    }
    callback();
  }

  private hash(data: Buffer): void {
    const every = this.checkpoints?.every;
    if (!every) {
      this.digester.update(data);
      return;
    }
    // The state at every multiple of `every` is kept, so a resumed upload re-reads less than `every` bytes.
    let rest = data;
    while (rest.length > 0) {
      const next = (Math.floor(this.digester.bytes / every) + 1) * every;
      const take = Math.min(rest.length, next - this.digester.bytes);
      this.digester.update(rest.subarray(0, take));
      rest = rest.subarray(take);
      if (this.digester.bytes === next) this.checkpoints!.record(this.digester);
    }
  }

  private mismatch(
    code: 'ERR_DIGEST_MISMATCH' | 'ERR_SIZE_MISMATCH',
    expected: string | number,
    found: string | number,
  ): ContentMismatchError {
    return new ContentMismatchError(
      code,
      `blob ${this.expectedDigest} from ${this.where.registry}/${this.where.repository}`,
      expected,
      found,
      {
        ...this.where,
        retryable: true,
      },
    );
  }
}

/** The digest state at one offset of a blob. */
export interface Checkpoint {
  readonly offset: number;
  readonly digester: Digester;
}

/**
 * Digest states recorded every `every` bytes of a blob while it streams: a resumed upload starts re-reading (and
 * hashing) at the last one at or before the registry's offset, so it never reads more than `every` bytes twice.
 * A state is a few hundred bytes: a 1 GiB blob at 1 MiB keeps about a thousand.
 */
export class HashCheckpoints {
  private readonly states = new Map<number, Digester>();
  constructor(
    readonly every: number,
    private readonly algorithm: Digester['algorithm'],
  ) {}

  record(digester: Digester): void {
    if (!this.states.has(digester.bytes)) this.states.set(digester.bytes, digester.copy());
  }

  /** The last recorded state at or before `offset` (the empty state at 0 when there is none). */
  atOrBefore(offset: number): Checkpoint {
    let best: Checkpoint = { offset: 0, digester: new Digester(this.algorithm) };
    for (const [at, digester] of this.states) if (at <= offset && at > best.offset) best = { offset: at, digester };
    return best;
  }
}
