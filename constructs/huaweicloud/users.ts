import type { BlockSchema } from './schema.js';

/** A user grant, shared by `_organization_permissions` and `_image_permissions` (swr-facts §2). */
export interface SwrPermissionUser {
  /** IAM user ID. */
  readonly userId: string;
  /** @default - looked up by the provider (Optional + Computed) */
  readonly userName?: string;
  /** Checked by the provider with StringInSlice. */
  readonly permission: 'Manage' | 'Write' | 'Read';
}

export const USERS: BlockSchema = {
  users: {
    tf: 'users',
    list: true,
    block: {
      userId: { tf: 'user_id', type: 'string' },
      userName: { tf: 'user_name', type: 'string' },
      permission: { tf: 'permission', type: 'string' },
    },
  },
};
