import type { BlockSchema } from './schema.js';

/** A user grant, shared by `_organization_permissions` and `_image_permissions`. */
export interface SwrPermissionUser {
  /** IAM user ID. */
  readonly userId: string;
  /** @default - looked up by the provider (Optional + Computed) */
  readonly userName?: string;
  /**
   * One of Manage, Write, Read. `huaweicloud_swr_organization_permissions` checks it with StringInSlice;
   * `huaweicloud_swr_image_permissions` does not (its user schema has no ValidateFunc), so the API decides there.
   */
  readonly permission: 'Manage' | 'Write' | 'Read';
}

export const USERS: BlockSchema = {
  users: {
    tf: 'users',
    list: true,
    required: true,
    block: {
      userId: { tf: 'user_id', type: 'string', required: true },
      userName: { tf: 'user_name', type: 'string' },
      permission: { tf: 'permission', type: 'string', required: true },
    },
  },
};
