/**
 * The defaults and bounds of a run, in one place. The CLI's flags, the Action's inputs (and `action.yml`, checked by
 * `test/unit/defaults.test.ts`), the engine and the client read them; docs/cli.md and docs/action.md state them.
 */

/** Images copied at once (`--workers`, Action input `workers`). */
export const DEFAULT_WORKERS = 7;
/** Bounds of `--workers` / `--proc` / `workers`. */
export const WORKERS_MIN = 1;
export const WORKERS_MAX = 256;

/** Retries of a failed request or blob transfer (`--retries`, input `retries`). */
export const DEFAULT_RETRIES = 3;
/** Bounds of `--retries` / `retries`. */
export const RETRIES_MIN = 0;
export const RETRIES_MAX = 20;

/** Longest silence on a connection (no response headers, no body bytes) before a request fails (`--stall-timeout`). */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** Keep-alive connections per registry origin. */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 32;

/**
 * Requests at once on one HTTP/2 connection (tag lists, HEADs, manifests). RFC 9113 §6.5.2 recommends servers allow
 * at least 100 concurrent streams; undici assumes 100 until the server's SETTINGS say otherwise.
 */
export const HTTP2_STREAMS_PER_CONNECTION = 100;

/** PATCH size of chunked uploads (raised to a registry's `OCI-Chunk-Min-Length`). */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
