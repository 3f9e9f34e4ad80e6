import { DEFAULT_RETRIES } from '../defaults.js';

/**
 * Retry policy for registry requests: 429, 5xx and connection errors are transient; the delay is capped
 * exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"), and a
 * `Retry-After` header (RFC 9110 §10.2.3: seconds or an HTTP date) wins when present.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 3 */
  readonly retries: number;
  /** First backoff step. @default 500 ms */
  readonly baseDelayMs: number;
  /** Cap of one backoff step. @default 15 s */
  readonly maxDelayMs: number;
  /** Longest `Retry-After` honoured; a registry asking for more fails the request instead of stalling the run. @default 120 s */
  readonly maxRetryAfterMs: number;
  /** Told of every retry (request or whole operation), so a run can report how many it needed. */
  readonly onRetry?: () => void;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: DEFAULT_RETRIES,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 120_000,
};

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
  // HTTP/2 (RFC 9113): a stream reset or a session ended by GOAWAY; the request can be sent again on a new stream.
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_SESSION',
]);

/** undici reports HTTP/2 stream and frame errors as informational errors whose message starts so. */
const UNDICI_HTTP2_INFO = /^HTTP\/2: /;

/** Whether a thrown network error (or its cause chain) is transient. */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
    if (code === 'UND_ERR_INFO' && UNDICI_HTTP2_INFO.test(String((e as { message?: unknown }).message))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Milliseconds a `Retry-After` value asks for, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether an operation that failed with `error` may succeed when tried again from the start. */
export function isRetryable(error: unknown): boolean {
  const flag = (error as { retryable?: unknown } | null)?.retryable;
  return typeof flag === 'boolean' ? flag : isRetryableNetworkError(error);
}

/**
 * Runs a whole operation (e.g. a blob transfer that re-reads its source) up to `policy.retries` more times while it
 * fails with a retryable error. Request-level retries live in the client; this is for work with streaming bodies.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  classify: (error: unknown) => unknown = (e) => e,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const cause = classify(error);
      if (!isRetryable(cause) || attempt >= policy.retries) throw cause;
      policy.onRetry?.();
      await sleep(backoffDelay(policy, attempt));
    }
  }
}
