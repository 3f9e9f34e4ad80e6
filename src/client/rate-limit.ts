import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { HostLimits } from '../config/registry-limits.js';
import { parseRetryAfter, sleep } from './retry.js';

/**
 * Per-host request rates and bandwidth (`--rate`, `--bandwidth`, mirror spec `registries`), and pacing on the
 * quota a registry reports: Docker Hub sends `ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 76;w=21600`
 * (pulls allowed and left in a window of `w` seconds) on manifest responses, and counts only manifest GETs as
 * pulls (HEADs and blob downloads are free). One limiter is shared by the source and destination clients of a
 * run, so a registry that is both is limited once.
 */

/** Time, injectable so the limiter can be tested without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => performance.now(), sleep };

/** A host being slowed down, reported once per host and reason. */
export interface PacingNotice {
  readonly host: string;
  /** `quota-low`: the registry reports few requests left; `quota-exhausted`: it answered 429 with its quota. */
  readonly reason: 'quota-low' | 'quota-exhausted';
  readonly message: string;
}

/** Limits of a `RegistryLimiter`. */
export interface RegistryLimiterOptions {
  /** Limits of every host without its own entry. */
  readonly defaults?: HostLimits;
  /** Per-host limits, by registry name as in references (`docker.io`, `host:port`); fields override the defaults. */
  readonly hosts?: ReadonlyMap<string, HostLimits>;
  /**
   * Pace quota requests once a registry reports this many or fewer left. At least the number of requests that may
   * be in flight at once, so those already sent cannot overdraw the quota. @default 8
   */
  readonly paceThreshold?: number;
  /** Longest pause of one request for pacing (a longer window is not waited out request by request). @default 120 s */
  readonly maxPaceMs?: number;
  readonly clock?: Clock;
}

/**
 * Token bucket: `rate` tokens per second, holding at most `capacity`. Reservations may overdraw it, so concurrent
 * callers queue in the order they asked, each told how long to wait.
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;
  constructor(
    readonly rate: number,
    readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updated = now;
  }

  /** Takes `n` tokens; returns the milliseconds to wait before using them (0: now). */
  reserve(n: number, now: number): number {
    if (now > this.updated) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updated) * this.rate) / 1000);
      this.updated = now;
    }
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.rate;
  }
}

/** A `ratelimit-remaining` / `ratelimit-limit` value: `76;w=21600` or `76`. Undefined when unreadable. */
export interface QuotaHeader {
  readonly value: number;
  /** Window in seconds (`w=`), when given. */
  readonly windowSeconds?: number;
}

export function parseQuotaHeader(text: string | undefined): QuotaHeader | undefined {
  if (text === undefined) return undefined;
  // Several policies may be listed (comma-separated); the first is the one in force.
  const [value, ...params] = text
    .split(',')[0]!
    .split(';')
    .map((p) => p.trim());
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const window = params.map((p) => /^w\s*=\s*(\d+)$/i.exec(p)?.[1]).find((w) => w !== undefined);
  return {
    value: Number(value),
    ...(window !== undefined && Number(window) > 0 ? { windowSeconds: Number(window) } : {}),
  };
}

/** Whether a request counts against a Docker Hub style pull quota: a manifest GET. */
export function isQuotaRequest(method: string, path: string): boolean {
  return method === 'GET' && /\/manifests\/[^/]+$/.test(path.split('?')[0]!);
}

interface HostState {
  readonly limits: HostLimits;
  readonly requests: TokenBucket | undefined;
  readonly bytes: TokenBucket | undefined;
  /** Spacing of quota requests while the registry reports few left (0: not paced). */
  quotaIntervalMs: number;
  /** Earliest time of the next quota request. */
  nextQuotaAt: number;
  readonly noticed: Set<PacingNotice['reason']>;
}

type HeaderMap = Record<string, string | string[] | undefined>;

/** Per-host request rate, bandwidth and quota pacing, shared by the source and destination clients of a run. */
export class RegistryLimiter {
  readonly notices: PacingNotice[] = [];
  private readonly options: RegistryLimiterOptions;
  private readonly clock: Clock;
  private readonly states = new Map<string, HostState>();
  private readonly listeners: Array<(notice: PacingNotice) => void> = [];

  constructor(options: RegistryLimiterOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  limitsFor(host: string): HostLimits {
    return { ...this.options.defaults, ...this.options.hosts?.get(host) };
  }

  /** Calls `listener` with every notice so far and every later one. */
  onNotice(listener: (notice: PacingNotice) => void): void {
    for (const notice of this.notices) listener(notice);
    this.listeners.push(listener);
  }

  /** Waits until a request to `host` may be sent; `quota` marks a request the registry's quota counts. */
  async beforeRequest(host: string, quota: boolean, signal?: AbortSignal): Promise<void> {
    const state = this.state(host);
    const now = this.clock.now();
    let wait = state.requests?.reserve(1, now) ?? 0;
    if (quota && (state.quotaIntervalMs > 0 || state.nextQuotaAt > now)) {
      const slot = Math.max(now, state.nextQuotaAt);
      state.nextQuotaAt = slot + state.quotaIntervalMs;
      wait = Math.max(wait, slot - now);
    }
    if (wait > 0) await this.clock.sleep(wait, signal);
  }

  /**
   * Reads the quota a response reports. Returns, for a 429 that reports it, how long to wait before trying again
   * (`Retry-After`, else the whole window); undefined otherwise.
   */
  afterResponse(host: string, status: number, headers: HeaderMap): number | undefined {
    const remaining = parseQuotaHeader(first(headers['ratelimit-remaining']));
    if (remaining === undefined) return undefined;
    const state = this.state(host);
    const now = this.clock.now();
    const window = remaining.windowSeconds ?? parseQuotaHeader(first(headers['ratelimit-limit']))?.windowSeconds;
    const quota = `ratelimit-remaining ${remaining.value}${window !== undefined ? ` in a window of ${window} s` : ''}`;
    const maxPace = this.options.maxPaceMs ?? 120_000;
    if (status === 429) {
      const wait = parseRetryAfter(first(headers['retry-after'])) ?? (window !== undefined ? window * 1000 : undefined);
      if (wait === undefined) return undefined;
      // The quota is gone for everyone: hold this host's other quota requests too, then space them out.
      state.nextQuotaAt = Math.max(state.nextQuotaAt, now + wait);
      if (window !== undefined)
        state.quotaIntervalMs = Math.min(maxPace, (window * 1000) / Math.max(remaining.value, 1));
      this.notice(
        state,
        host,
        'quota-exhausted',
        `${host} answered 429 Too Many Requests (${quota}): waiting ${seconds(wait)} before its next manifest GET`,
      );
      return wait;
    }
    const threshold = this.options.paceThreshold ?? 8;
    if (remaining.value > threshold || window === undefined) {
      state.quotaIntervalMs = 0;
      return undefined;
    }
    const spread = (window * 1000) / Math.max(remaining.value, 1);
    state.quotaIntervalMs = Math.min(maxPace, spread);
    const capped = spread > maxPace ? ` (${seconds(spread)} would spread them over the window; capped)` : '';
    this.notice(
      state,
      host,
      'quota-low',
      `${host} reports ${quota} (pacing starts at ${threshold} or fewer): manifest GETs to it are spaced ${seconds(state.quotaIntervalMs)} apart${capped}`,
    );
    return undefined;
  }

  /** `body` paced to the host's bandwidth (shared by all transfers to and from it); `body` itself when unlimited. */
  pace(host: string, body: Readable): Readable {
    const bucket = this.state(host).bytes;
    if (bucket === undefined) return body;
    const paced = new PacedStream(bucket, this.clock, sliceBytes(bucket.rate));
    // pipeline() destroys each side when the other fails or is destroyed: an aborted consumer releases the source.
    pipeline(body, paced, () => undefined);
    return paced;
  }

  private state(host: string): HostState {
    let state = this.states.get(host);
    if (!state) {
      const limits = this.limitsFor(host);
      const now = this.clock.now();
      state = {
        limits,
        requests: limits.rate !== undefined ? new TokenBucket(limits.rate, Math.max(1, limits.rate), now) : undefined,
        bytes:
          limits.bandwidth !== undefined
            ? new TokenBucket(limits.bandwidth, Math.max(sliceBytes(limits.bandwidth), limits.bandwidth / 10), now)
            : undefined,
        quotaIntervalMs: 0,
        nextQuotaAt: 0,
        noticed: new Set(),
      };
      this.states.set(host, state);
    }
    return state;
  }

  private notice(state: HostState, host: string, reason: PacingNotice['reason'], message: string): void {
    if (state.noticed.has(reason)) return;
    state.noticed.add(reason);
    const notice = { host, reason, message };
    this.notices.push(notice);
    for (const listener of this.listeners) listener(notice);
  }
}

/** Bytes released at once: about 50 ms worth, from 1 KiB to 64 KiB, so the flow stays smooth at any rate. */
function sliceBytes(rate: number): number {
  return Math.max(1024, Math.min(64 * 1024, Math.floor(rate / 20)));
}

/**
 * Passes bytes through no faster than a shared bucket allows. Holds at most one incoming chunk: the next is not
 * taken until this one is released, so backpressure reaches the source (and undici does not count a paused body
 * against its body timeout).
 */
export class PacedStream extends Transform {
  private readonly abort = new AbortController();
  constructor(
    private readonly bucket: TokenBucket,
    private readonly clock: Clock,
    private readonly slice: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.release(chunk).then(
      () => {
        if (!this.destroyed) callback();
      },
      (error: unknown) => {
        if (!this.destroyed) callback(error as Error);
      },
    );
  }

  private async release(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length && !this.destroyed; offset += this.slice) {
      const part = chunk.subarray(offset, offset + this.slice);
      const wait = this.bucket.reserve(part.length, this.clock.now());
      if (wait > 0) await this.clock.sleep(wait, this.abort.signal);
      if (!this.destroyed) this.push(part);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.abort.abort();
    callback(error);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}
