/** Durations in flags and Action inputs: `90s`, `30m`, `2h`, `1500ms`; a bare number is seconds. */
export const DURATION_RULE = 'a duration such as 90s, 30m or 2h (at most 7 days)';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_MS = 7 * 24 * 3_600_000;

/** Milliseconds, or undefined when `text` is not a duration of 1 ms to 7 days. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's']! : NaN;
  return Number.isFinite(ms) && ms >= 1 && ms <= MAX_MS ? Math.round(ms) : undefined;
}

/** The shortest way to write `ms` back in the same grammar (`5m`, `90s`, `1500ms`), for logs. */
export function formatDurationText(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
