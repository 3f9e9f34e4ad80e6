import { createHash, type Hash } from 'node:crypto';
import { InvalidReferenceError } from '../errors.js';

/**
 * Digests as the OCI image-spec defines them (descriptor.md#digests): `algorithm ":" encoded`.
 * Only the registered algorithms are accepted, with their exact encoded lengths, so a typo fails at input time
 * instead of as a 404 from the registry.
 */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Returns the reason a digest string is invalid, or undefined when it is valid. */
export function digestProblem(digest: string): string | undefined {
  if (!DIGEST_GRAMMAR.test(digest)) return 'a digest is "algorithm:hex", e.g. sha256:<64 hex characters>';
  const [algorithm, encoded] = digest.split(':', 2) as [string, string];
  const length = (ALGORITHMS as Record<string, number>)[algorithm];
  if (length === undefined) return `digest algorithm "${algorithm}" is not supported (sha256, sha512)`;
  if (encoded.length !== length || !/^[0-9a-f]+$/.test(encoded)) {
    return `a ${algorithm} digest has exactly ${length} lowercase hex characters (found ${encoded.length})`;
  }
  return undefined;
}

export function assertDigest(digest: string, input = digest): void {
  const problem = digestProblem(digest);
  if (problem) throw new InvalidReferenceError(input, problem);
}

export function digestAlgorithm(digest: string): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Incremental digest for streamed content. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  bytes = 0;
  constructor(algorithm: DigestAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : `${digest.slice(0, i)}:${digest.slice(i + 1, i + 13)}`;
}
