import { isSwrSyncError } from '../errors.js';

/** docs/architecture.md, "The contract": 0 all succeeded; 1 some images failed (the others still completed); 2 invalid input. */
export const ExitCode = { Ok: 0, Failed: 1, InvalidInput: 2 } as const;

export function exitCodeFor(error: unknown): number {
  return isSwrSyncError(error) && error.isInputError ? ExitCode.InvalidInput : ExitCode.Failed;
}
