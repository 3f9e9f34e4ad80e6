import { InvalidArgumentError } from 'commander';
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
