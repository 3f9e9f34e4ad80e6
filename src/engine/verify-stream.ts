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
  private held: Buffer | undefined;
  private readonly expectedDigest: string;
  private readonly expectedSize: number;
  private readonly where: { registry: string; repository: string };
  onBytes: ((n: number) => void) | undefined;

  constructor(expectedDigest: string, expectedSize: number, where: { registry: string; repository: string }) {
    super();
    this.expectedDigest = expectedDigest;
    this.expectedSize = expectedSize;
    this.where = where;
    this.digester = new Digester(digestAlgorithm(expectedDigest));
  }

  get bytes(): number {
    return this.digester.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.digester.update(chunk);
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

  private mismatch(code: 'ERR_DIGEST_MISMATCH' | 'ERR_SIZE_MISMATCH', expected: string | number, found: string | number): ContentMismatchError {
    return new ContentMismatchError(code, `blob ${this.expectedDigest} from ${this.where.registry}/${this.where.repository}`, expected, found, {
      ...this.where,
      retryable: true,
    });
  }
}
