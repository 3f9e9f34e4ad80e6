import { z } from 'zod';
import { normalizeRegistry } from '../oci/reference.js';
import { isRecord, tryExpandVariables } from './parse-text.js';

/** Limits of one host; absent fields are unlimited. */
export interface HostLimits {
  /** Requests per second (token bucket holding one second's worth). */
  readonly rate?: number;
  /** Bytes per second of blob bodies, downloads and uploads together. */
  readonly bandwidth?: number;
}

/**
 * Per-registry limits as users write them: `--rate N` (requests per second), `--bandwidth N` (bytes per second)
 * and the mirror spec's optional top-level `registries` map, which overrides the flags field by field:
 *
 * ```
 * "registries": { "docker.io": { "rate": 2, "bandwidth": "20M" }, "swr.cn-north-4.myhuaweicloud.com": { "bandwidth": 50000000 } }
 * ```
 *
 * Byte units: k, M, G, T are powers of 1000 (as network rates are quoted); Ki, Mi, Gi, Ti are powers of 1024
 * (IEC 80000-13). The prefix letter may be either case; a trailing `B` and `/s` are optional. A lowercase `b`
 * (bits) is refused, so `10Mb` is not silently read as megabytes.
 */

export const BYTE_RATE_RULE =
  'a number of bytes per second, optionally with a unit: k, M, G (powers of 1000) or Ki, Mi, Gi (powers of 1024), e.g. 20M, 512k or 1.5MiB';
export const RATE_RULE = 'a positive number of requests per second, e.g. 10 or 0.5';

const PREFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};
const BYTE_RATE = /^(\d+(?:\.\d+)?|\.\d+)\s*(?:([kmgt]i?)(B)?|(B))?(?:\/s)?$/i;

/** Bytes per second from `20M`, `512k`, `1.5MiB`, `1000000` or a JSON number; undefined when not a rate of at least 1 B/s. */
export function parseByteRate(value: string | number): number | undefined {
  let bytes: number;
  if (typeof value === 'number') bytes = value;
  else {
    const match = BYTE_RATE.exec(value.trim());
    if (!match) return undefined;
    // `B` must be upper case: `b` is bits.
    if ((match[3] ?? match[4]) === 'b') return undefined;
    bytes = Number(match[1]) * PREFIX[(match[2] ?? '').toLowerCase()]!;
  }
  return Number.isFinite(bytes) && bytes >= 1 ? Math.floor(bytes) : undefined;
}

/** Requests per second: a finite positive number. */
export function parseRequestRate(value: string | number): number | undefined {
  const rate = typeof value === 'number' ? value : /^(\d+(?:\.\d+)?|\.\d+)$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(rate) && rate > 0 ? rate : undefined;
}

/** The mirror spec's `registries` field, for the schema the constructs share (messages come from `parseRegistryLimits`). */
export const MirrorSpecRegistryLimitsSchema = z.strictObject({
  /** Requests per second to this registry. */
  rate: z.number().positive().optional(),
  /** Bytes per second to and from this registry: a number, or a string with a unit (`20M`, `1.5MiB`). */
  bandwidth: z.union([z.number().positive(), z.string()]).optional(),
});
export const MirrorSpecRegistriesSchema = z.record(z.string(), MirrorSpecRegistryLimitsSchema);

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Limits by registry from a mirror spec's `registries` value (`${VAR}` expanded in keys, Docker Hub aliases
 * folded into `docker.io`), and the problems found, each naming the field and the rule.
 */
export function parseRegistryLimits(
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
): { limits: Map<string, HostLimits>; problems: string[] } {
  const limits = new Map<string, HostLimits>();
  const problems: string[] = [];
  if (value === undefined) return { limits, problems };
  if (!isRecord(value)) {
    problems.push(
      '"registries" must be an object mapping a registry host to { "rate"?, "bandwidth"? }, e.g. { "docker.io": { "rate": 2 } }',
    );
    return { limits, problems };
  }
  const keys = new Map<string, string>();
  for (const [written, entry] of Object.entries(value)) {
    const field = `"registries" key "${written}"`;
    const expanded = tryExpandVariables(written, env);
    if ('problem' in expanded) {
      problems.push(`${field}: ${expanded.problem}`);
      continue;
    }
    if (!HOST.test(expanded.value)) {
      problems.push(`${field} must be a registry host[:port], e.g. docker.io or swr.cn-north-4.myhuaweicloud.com`);
      continue;
    }
    const host = normalizeRegistry(expanded.value);
    const twin = keys.get(host);
    if (twin !== undefined) {
      problems.push(`${field} names the same registry as key "${twin}" (${host})`);
      continue;
    }
    keys.set(host, written);
    const where = (name?: string) => `"registries.${written}${name === undefined ? '' : `.${name}`}"`;
    if (!isRecord(entry)) {
      problems.push(`${where()} must be an object { "rate"?, "bandwidth"? }`);
      continue;
    }
    const unknown = Object.keys(entry).filter((k) => k !== 'rate' && k !== 'bandwidth');
    if (unknown.length > 0)
      problems.push(
        `${where()} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: rate, bandwidth)`,
      );
    const parsed: { rate?: number; bandwidth?: number } = {};
    if (entry.rate !== undefined) {
      const rate = typeof entry.rate === 'number' ? parseRequestRate(entry.rate) : undefined;
      if (rate === undefined)
        problems.push(`${where('rate')} must be ${RATE_RULE}; found ${JSON.stringify(entry.rate)}`);
      else parsed.rate = rate;
    }
    if (entry.bandwidth !== undefined) {
      const bandwidth =
        typeof entry.bandwidth === 'number' || typeof entry.bandwidth === 'string'
          ? parseByteRate(entry.bandwidth)
          : undefined;
      if (bandwidth === undefined)
        problems.push(`${where('bandwidth')} must be ${BYTE_RATE_RULE}; found ${JSON.stringify(entry.bandwidth)}`);
      else parsed.bandwidth = bandwidth;
    }
    limits.set(host, parsed);
  }
  return { limits, problems };
}

/** Several files' limits in one: where two set the same field of a registry, the lower value applies. */
export function mergeRegistryLimits(maps: readonly ReadonlyMap<string, HostLimits>[]): Map<string, HostLimits> {
  const merged = new Map<string, HostLimits>();
  for (const map of maps) {
    for (const [host, limits] of map) {
      const before = merged.get(host) ?? {};
      const rate = lower(before.rate, limits.rate);
      const bandwidth = lower(before.bandwidth, limits.bandwidth);
      merged.set(host, { ...(rate !== undefined ? { rate } : {}), ...(bandwidth !== undefined ? { bandwidth } : {}) });
    }
  }
  return merged;
}

function lower(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
