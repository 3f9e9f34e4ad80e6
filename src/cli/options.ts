import { InvalidArgumentError } from 'commander';
import { DURATION_RULE, parseDuration } from '../config/duration.js';
import { BYTE_RATE_RULE, parseByteRate, parseRequestRate, RATE_RULE } from '../config/registry-limits.js';
import { SwrSyncError } from '../errors.js';

/** commander argument parsers that turn bad values into exit-2 errors naming the flag, the value and the rule. */
export function integerOption(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} must be an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
}

export function invalidArgument(message: string): SwrSyncError {
  return new SwrSyncError('ERR_INVALID_ARGUMENT', message);
}

/** `90s`, `30m`, `2h`, `1500ms`; a bare number is seconds. */
export function durationOption(flag: string): (value: string) => number {
  return (value: string) => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new InvalidArgumentError(`${flag} must be ${DURATION_RULE}`);
    return ms;
  };
}

/** `--rate`: requests per second, a positive number (fractions allowed: 0.5 is one request every two seconds). */
export function rateOption(flag: string): (value: string) => number {
  return (value: string) => {
    const rate = parseRequestRate(value);
    if (rate === undefined) throw new InvalidArgumentError(`${flag} must be ${RATE_RULE}`);
    return rate;
  };
}

/** `--bandwidth`: bytes per second, `20M`, `512k`, `1.5MiB` (see registry-limits.ts for the units). */
export function byteRateOption(flag: string): (value: string) => number {
  return (value: string) => {
    const bytes = parseByteRate(value);
    if (bytes === undefined) throw new InvalidArgumentError(`${flag} must be ${BYTE_RATE_RULE}`);
    return bytes;
  };
}
