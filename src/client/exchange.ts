import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { describeError, SwrSyncError } from '../errors.js';
import { BUDGETS } from '../oci/budgets.js';

/**
 * One HTTP exchange with a registry (OCI Distribution Spec v1.1): what is asked, what came back, and how an answer
 * is read without trusting it — bounded bodies, the spec's error body in one line, `Link` pagination.
 */

/** `pull` for sources, `push` (= pull,push) for destinations. */
export type Access = 'pull' | 'push';

/** One request as `onRequest` reports it. */
export interface RequestEvent {
  readonly registry: string;
  readonly method: string;
  /** Path and query, never the credential. */
  readonly path: string;
  readonly status: number | undefined;
}

/** A request body: bytes, or a stream opened per attempt (a stream cannot be sent twice, so it is not retried). */
export type Body = Buffer | (() => Readable);

/** One request to a registry, as the session sends it (auth, retries and redirects added there). */
export interface Exchange {
  readonly registry: string;
  readonly repository: string;
  readonly access: Access;
  /** Extra token scopes, e.g. pull on the source repository of a mount. */
  readonly extraScopes?: readonly string[];
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the origin, or an absolute URL (upload locations). */
  readonly target: string;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
  /** Statuses returned to the caller with the body unread; anything else is an error. */
  readonly expect: readonly number[];
  readonly followRedirects?: boolean;
}

/** An answer the caller expected, its body unread. */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
  /** Final URL (after redirects). */
  readonly url: URL;
}

/** The `Link: <…>; rel="next"` page after this one (distribution-spec pagination of tag and referrers lists), absolute. */
export function nextPage(res: RegistryResponse): string | undefined {
  const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '')?.[1];
  return next === undefined ? undefined : new URL(next, res.url).toString();
}

/** A HEAD answer in undici's shape: the same handling (status, headers, an empty body to dump) for every method. */
export function headResponse(res: {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
}): Dispatcher.ResponseData {
  const body = Object.assign(Readable.from([]), { dump: async () => undefined });
  return {
    statusCode: res.statusCode,
    headers: res.headers,
    body,
    trailers: {},
    opaque: undefined,
    context: {},
  } as unknown as Dispatcher.ResponseData;
}

/** `registry/repository:tag` or `registry/repository@digest`, for messages. */
export function display(registry: string, repository: string, ref: string): string {
  return `${registry}/${repository}${ref.includes(':') ? '@' : ':'}${ref}`;
}

/** A response header's first value. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `location` with one more query parameter (upload locations may carry their own). */
export function withQuery(location: string, key: string, value: string): string {
  const url = new URL(location);
  url.searchParams.append(key, value);
  return url.toString();
}

/** `registry /v2/...` for messages: the path, never the query (an upload location may carry a session secret). */
export function describeTarget(op: Exchange, target: URL): string {
  return `${op.registry}${target.pathname}`.replace(/\/v2\//, ' /v2/');
}

/** The system or TLS cause of a network failure in one line: `ECONNREFUSED connect ...`, `CERT_HAS_EXPIRED (...)`. */
/**
 * A TLS handshake answered with plain HTTP: OpenSSL reads the HTTP status line as a TLS record and reports a wrong
 * version number (EPROTO / ERR_SSL_WRONG_VERSION_NUMBER). image-migrator's and image-syncer's auth.json mark such a
 * registry `insecure: true`; users moving from them meet this first (docs/migrating.md).
 */
export function looksLikePlainHttp(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      (typeof message === 'string' && /wrong version number/i.test(message))
    )
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function networkCause(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const { code, reason, message } = e as { code?: unknown; reason?: unknown; message?: unknown };
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) {
      // OpenSSL messages carry library internals; its `reason` is the readable part.
      const text = typeof reason === 'string' ? reason : typeof message === 'string' ? message.split('\n')[0]! : '';
      // Node's own messages carry the code after the syscall (`connect ECONNREFUSED 127.0.0.1:1`): said once, first.
      const rest = text.replace(new RegExp(`^(?:\\w+ )?${code}\\b:?\\s*`), '');
      return `${code} ${rest}`.trim();
    }
    e = (e as { cause?: unknown }).cause;
  }
  return describeError(error);
}

/** A response body as undici gives it: readable, and destroyable before its end. */
type ResponseBody = AsyncIterable<Uint8Array> & {
  destroy(error?: Error): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
};

/**
 * Stops reading a body and closes its connection. An undici body destroyed before its end emits 'error'
 * (RequestAbortedError); without a listener that is an uncaught exception that ends the whole run, not one image.
 */
export function discard(body: ResponseBody): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * A whole body, refusing more than `limit` bytes or taking longer than `deadlineMs` (a server decides what it sends
 * and how fast: memory and time stay bounded). `tooSlow` names what was read, for the error past the deadline.
 */
export async function readLimited(
  body: ResponseBody,
  limit: number,
  tooLarge: () => Error,
  tooSlow?: () => Error,
  deadlineMs: number = BUDGETS.documentMs,
): Promise<Buffer> {
  body.on('error', () => undefined);
  const parts: Buffer[] = [];
  let total = 0;
  const deadline = Date.now() + deadlineMs;
  // A body that stops sending is the stall timeout's; one that keeps dripping is stopped here, even between chunks.
  const timer = setTimeout(
    () => body.destroy(Object.assign(new Error('deadline'), { code: 'SWR_DOCUMENT_DEADLINE' })),
    deadlineMs,
  );
  timer.unref();
  try {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > limit) {
        discard(body);
        throw tooLarge();
      }
      parts.push(Buffer.from(chunk));
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SWR_DOCUMENT_DEADLINE' || Date.now() >= deadline) {
      throw (
        tooSlow?.() ??
        new SwrSyncError(
          'ERR_LIMIT_EXCEEDED',
          `a registry's answer took longer than the documentMs budget of ${deadlineMs} ms (see docs/security.md)`,
        )
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(parts);
}

/**
 * The distribution-spec error body (`{"errors":[{"code","message"}]}`) in one line, for messages. At most
 * `errorBodyBytes` are read; the rest of a longer (or never-ending) body is not read at all: the connection is closed.
 */
export async function errorDetail(res: RegistryResponse): Promise<string> {
  let text = '';
  res.body.on('error', () => undefined);
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      parts.push(Buffer.from(chunk as Uint8Array));
      total += (chunk as Uint8Array).length;
      if (total >= BUDGETS.errorBodyBytes) {
        discard(res.body);
        break;
      }
    }
    text = Buffer.concat(parts).subarray(0, BUDGETS.errorBodyBytes).toString('utf8');
  } catch {
    return '';
  }
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors
        .slice(0, 10)
        .map((e) => [e?.code, e?.message].filter((v) => typeof v === 'string' && v !== '').join(': '))
        .join('; ')
        .slice(0, 1000);
    }
  } catch {
    // not JSON: fall through to the first line of text
  }
  return text.split('\n')[0]!.trim().slice(0, 200);
}
