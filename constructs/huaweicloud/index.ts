/** Typed bindings for the `huaweicloud/huaweicloud` SWR resources (no cdktf provider package is published). */
export * from './provider.js';
export type { RegionalConfig } from './resource.js';
export type { ArgSchema, BlockArg, BlockSchema, Scalar, ScalarArg } from './schema.js';
export type { SwrPermissionUser } from './users.js';
export * from './swr-organization.js';
export * from './swr-organization-permissions.js';
export * from './swr-repository.js';
export * from './swr-repository-sharing.js';
export * from './swr-image-permissions.js';
export * from './swr-image-retention-policy.js';
export * from './swr-image-trigger.js';
export * from './swr-image-auto-sync.js';
export * from './swr-repository-tag.js';
export * from './swr-image-manual-sync.js';
export * from './swr-temporary-login-command.js';
export * from './swr-data-sources.js';
