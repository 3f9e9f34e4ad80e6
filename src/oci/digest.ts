import { createHash, type Hash } from 'node:crypto';
import { InvalidReferenceError, SwrSyncError } from '../errors.js';

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

/** Whether `value` is a well-formed digest of a supported algorithm (`digestProblem` finds nothing). */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && digestProblem(value) === undefined;
}

/**
 * A digest a server sent (a `Docker-Content-Digest` header, a descriptor, a referrer, an `index.json` entry), checked
 * before anything uses it: as a path segment, a tag, a lock-file entry or an Action output. Anything else fails with
 * `ERR_INVALID_DIGEST`, naming `what` and showing the value quoted and cut short (it is the server's text).
 */
export function serverDigest(
  value: unknown,
  what: string,
  where: { registry?: string; repository?: string } = {},
): string {
  if (isDigest(value)) return value;
  const shown =
    typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value;
  const problem = typeof value === 'string' ? digestProblem(value) : 'not a string';
  throw new SwrSyncError('ERR_INVALID_DIGEST', `${what}: ${shown} is not a valid digest (${problem})`, {
    ...(where.registry !== undefined ? { registry: where.registry } : {}),
    ...(where.repository !== undefined ? { repository: where.repository } : {}),
  });
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
  constructor(algorithm: DigestAlgorithm = 'sha256', from?: { hash: Hash; bytes: number }) {
    this.algorithm = algorithm;
    this.hash = from ? from.hash : createHash(algorithm);
    this.bytes = from?.bytes ?? 0;
  }
  /** An independent digester in the same state: what was hashed so far need not be hashed again (a resumed read). */
  copy(): Digester {
    return new Digester(this.algorithm, { hash: this.hash.copy(), bytes: this.bytes });
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
