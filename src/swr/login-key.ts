import { createHmac } from 'node:crypto';
import { SwrSyncError } from '../errors.js';

/**
 * SWR's long-term docker login, derived from an AK/SK pair (docs/swr.md, "Long-term login"):
 * user `<regional project name>@<AK>`, password hex(HMAC-SHA256(key = SK, message = AK)).
 * The key cannot be turned back into the SK, so it is safe to store where the SK is not.
 */

/** Lowercase hex, 64 characters. */
export function swrLoginKey(accessKey: string, secretKey: string): string {
  requireToken('access key', accessKey);
  requireToken('secret key', secretKey);
  return createHmac('sha256', secretKey).update(accessKey, 'utf8').digest('hex');
}

/** The docker login user, e.g. `cn-north-4@AK`. */
export function swrLoginUser(projectName: string, accessKey: string): string {
  requireToken('project name', projectName);
  // SWR splits the user at '@' into project and AK.
  if (projectName.includes('@')) throw new SwrSyncError('ERR_INVALID_ARGUMENT', 'project name must not contain "@"');
  requireToken('access key', accessKey);
  return `${projectName}@${accessKey}`;
}

// Invisible format characters (zero-width space, BOM) arrive with copy and paste just like stray newlines do.
const UNPRINTABLE = /[\s\p{Cc}\p{Cf}]/u;

/** Messages name the argument, never its value: these are keys. */
function requireToken(what: string, value: string): void {
  if (typeof value !== 'string' || value === '') throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${what} is empty`);
  if (UNPRINTABLE.test(value)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${what} contains whitespace or control characters (a trailing newline from a file or stdin?)`,
    );
  }
}
