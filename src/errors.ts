/**
 * Typed errors. Every error the engine raises carries a stable `code` (for scripts and tests), the registry and
 * repository it concerns where known, and says what was expected and what was found. Messages never contain
 * credentials: callers pass hosts, repositories and digests, never header values.
 */

export type ErrorCode =
  // invalid input (exit 2)
  | 'ERR_INVALID_REFERENCE'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_CONFIG_READ'
  // registry / network (exit 1)
  | 'ERR_REGISTRY_UNREACHABLE'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_DENIED'
  | 'ERR_NOT_FOUND'
  | 'ERR_REGISTRY_RESPONSE'
  // a resumed blob read answered from byte 0 with more to skip than is worth it: the transfer starts over
  | 'ERR_RANGE_IGNORED'
  | 'ERR_TOO_MANY_REQUESTS'
  | 'ERR_DIGEST_MISMATCH'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_MANIFEST_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MANIFEST'
  | 'ERR_CREDENTIAL_HELPER'
  | 'ERR_TOKEN'
  | 'ERR_PLATFORM_NOT_FOUND'
  // a registry (or layout) sent a digest that is not one: a header, a descriptor, a referrer, an index.json entry
  | 'ERR_INVALID_DIGEST'
  // a registry's answer exceeded one of the budgets of src/client/budgets.ts (docs/security.md)
  | 'ERR_LIMIT_EXCEEDED'
  // a Kubernetes API server (swr-sync config): cannot be reached, or answered with an error
  | 'ERR_CLUSTER_UNREACHABLE'
  | 'ERR_CLUSTER_RESPONSE'
  // an OCI image layout (oci: / oci-archive:) that cannot be read or written as one
  | 'ERR_LAYOUT'
  | 'ERR_ABORTED';

/** Context of a `SwrSyncError`: where it happened and whether it is retryable. */
export interface SwrSyncErrorOptions {
  readonly registry?: string;
  readonly repository?: string;
  readonly cause?: unknown;
  /** HTTP status, when the error comes from a registry response. */
  readonly status?: number;
  /** Whether trying the same operation again may succeed (429, 5xx, connection loss, truncated stream). */
  readonly retryable?: boolean;
}

/** Every error the engine throws on purpose: a stable `code` (`ERR_…`), a message naming the file, key, flag or registry and the rule, and whether a retry may succeed. */
export class SwrSyncError extends Error {
  readonly code: ErrorCode;
  readonly registry?: string;
  readonly repository?: string;
  readonly status?: number;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SwrSyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.registry !== undefined) this.registry = options.registry;
    if (options.repository !== undefined) this.repository = options.repository;
    if (options.status !== undefined) this.status = options.status;
    this.retryable = options.retryable ?? false;
  }

  /** Whether this error means the user's input was invalid (exit status 2), rather than a failed copy. */
  get isInputError(): boolean {
    return INPUT_CODES.has(this.code);
  }
}

const INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  'ERR_INVALID_REFERENCE',
  'ERR_INVALID_ARGUMENT',
  'ERR_INVALID_CONFIG',
  'ERR_CONFIG_READ',
]);

/** Whether an error code means invalid input (exit status 2), e.g. the code in an image result's `error`. */
export function isInputErrorCode(code: string | undefined): boolean {
  return code !== undefined && INPUT_CODES.has(code as ErrorCode);
}

/** A reference string that breaks the grammar of distribution's `reference` package. */
export class InvalidReferenceError extends SwrSyncError {
  readonly input: string;
  constructor(input: string, rule: string) {
    super('ERR_INVALID_REFERENCE', `invalid image reference "${input}": ${rule}`);
    this.input = input;
  }
}

/** A configuration file or value that breaks a rule; names the file, the key and the rule. */
export class ConfigError extends SwrSyncError {
  readonly file?: string;
  readonly key?: string;
  constructor(
    message: string,
    options: { file?: string; key?: string; cause?: unknown; code?: 'ERR_INVALID_CONFIG' | 'ERR_CONFIG_READ' } = {},
  ) {
    const where = [options.file, options.key ? `key "${options.key}"` : undefined].filter(Boolean).join(', ');
    super(options.code ?? 'ERR_INVALID_CONFIG', where ? `${where}: ${message}` : message, { cause: options.cause });
    if (options.file !== undefined) this.file = options.file;
    if (options.key !== undefined) this.key = options.key;
  }
}

const MESSAGE_PROBLEMS_MAX = 100;

/**
 * Every problem found in one configuration file, so the user can fix them all in one go. The message has one
 * problem per line (at most `MESSAGE_PROBLEMS_MAX`; `problems` always holds all of them).
 */
export class ConfigErrors extends SwrSyncError {
  readonly problems: readonly ConfigError[];
  readonly file?: string;
  constructor(problems: readonly ConfigError[], options: { file?: string } = {}) {
    const shown = problems.slice(0, MESSAGE_PROBLEMS_MAX).map((p) => p.message);
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more problems`);
    super('ERR_INVALID_CONFIG', shown.join('\n'));
    this.problems = problems;
    if (options.file !== undefined) this.file = options.file;
  }
}

/** Digest or size of received bytes differ from what the descriptor or reference promised. */
export class ContentMismatchError extends SwrSyncError {
  constructor(
    code: 'ERR_DIGEST_MISMATCH' | 'ERR_SIZE_MISMATCH',
    what: string,
    expected: string | number,
    found: string | number,
    options: SwrSyncErrorOptions = {},
  ) {
    super(code, `${what}: expected ${expected}, found ${found}`, options);
  }
}

/** Whether `e` is a `SwrSyncError` (or a subclass), also across bundles where `instanceof` does not hold. */
export function isSwrSyncError(e: unknown): e is SwrSyncError {
  return e instanceof SwrSyncError;
}

/** A one-line description of any thrown value, following `cause` chains, for logs and results. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let text = e.message;
  let cause: unknown = (e as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    const causeCode = (cause as { code?: unknown }).code;
    const part =
      typeof causeCode === 'string' && !cause.message.includes(causeCode)
        ? `${causeCode}: ${cause.message}`
        : cause.message;
    // A cause the message already gives (a network error's code or text) is not repeated.
    const given =
      text.includes(cause.message) ||
      (typeof causeCode === 'string' && /^E[A-Z]+$/.test(causeCode) && text.includes(causeCode));
    if (part && !given) text += ` (cause: ${part})`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return text;
}

/** A signal that aborts after `ms` with the typed reason of `deadlineSignal`. */
export function timeLimitSignal(ms: number, setBy: string): AbortSignal {
  return deadlineSignal(undefined, ms, setBy);
}

/**
 * A signal that aborts when `outer` does, or after `ms` with a typed reason naming how the user set the limit
 * (`--timeout`, `timeout input`), so every message about the abort says which knob to turn. Not
 * `AbortSignal.any([outer, timeout])`: on Node 20 a composite signal holds its sources weakly, and a run under memory
 * pressure (a registry sending endless bodies) was seen never to end. Here the pending timer holds the controller for
 * as long as the deadline can fire.
 */
export function deadlineSignal(outer: AbortSignal | undefined, ms: number, setBy: string): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new SwrSyncError('ERR_ABORTED', `the run reached its time limit (${setBy})`)),
    ms,
  );
  timer.unref();
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return controller.signal;
}

/** What an aborted signal's reason says: its own message when typed, else a time limit or a cancellation. */
export function abortReasonText(reason: unknown): string {
  if (isSwrSyncError(reason)) return reason.message;
  return (reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
    ? 'the run reached its time limit'
    : 'the run was cancelled';
}

/**
 * Whether a thrown value (or its causes) is the abort of a signal: undici rejects with the signal's reason, a
 * `TimeoutError` for `AbortSignal.timeout`, or an `AbortError`. `timedOut` tells the two apart for messages.
 */
export function abortOf(e: unknown): { timedOut: boolean } | undefined {
  for (let x: unknown = e, depth = 0; x && depth < 5; depth++) {
    const { name, code } = x as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError') return { timedOut: true };
    if (name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' || code === 'ERR_ABORTED')
      return { timedOut: /time limit/.test(String((x as Error).message)) };
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}
