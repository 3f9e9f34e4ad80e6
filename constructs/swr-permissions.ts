import type { IConstruct } from './lib/cdktf.js';
import { fail, isUnresolved } from './lib/validation.js';

/** SWR's permission levels: pull; pull and push; everything including deletion and grants. */
export type SwrPermissionLevel = 'Read' | 'Write' | 'Manage';

/** A user grant on an organization or a repository (`users` block). */
export interface SwrPermission {
  /** IAM user ID. */
  readonly userId: string;
  /** @default - looked up by the provider */
  readonly userName?: string;
  /** The level granted. */
  readonly permission: SwrPermissionLevel;
}

const LEVELS: readonly string[] = ['Read', 'Write', 'Manage'];

export function checkUsers(scope: IConstruct, prop: string, users: SwrPermission[] | undefined): void {
  if (users === undefined) return;
  const seen = new Set<string>();
  users.forEach((u, i) => {
    const at = `${prop}[${i}]`;
    if (!isUnresolved(u.userId)) {
      if (typeof u.userId !== 'string' || u.userId.length === 0)
        fail(scope, `${at}.userId`, u.userId, 'must be a non-empty IAM user ID');
      if (seen.has(u.userId)) fail(scope, `${at}.userId`, u.userId, 'must appear once per permissions list');
      seen.add(u.userId);
    }
    if (!isUnresolved(u.permission) && !LEVELS.includes(u.permission)) {
      fail(scope, `${at}.permission`, u.permission, "must be 'Read', 'Write' or 'Manage'");
    }
  });
}
