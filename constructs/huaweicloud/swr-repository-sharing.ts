import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/**
 * The resource declares a single default timeout, so Terraform accepts only `timeouts { default }`. The provider's
 * doc page lists create/update/delete; the Go schema (`huaweicloud/services/swr/resource_huaweicloud_swr_repository_sharing.go`,
 * `Timeouts: Default`) decides.
 */
export interface SwrRepositorySharingTimeouts {
  /** Applies to create, update and delete. @default '2m' */
  readonly default?: string;
}

/** `huaweicloud_swr_repository_sharing`: share a repository with another account. */
export interface SwrRepositorySharingConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository to share. */
  readonly repository: string;
  /** The account must already exist. */
  readonly sharingAccount: string;
  /** `YYYY-MM-DD` (UTC; the share ends at 00:00 the day after) or `forever`. */
  readonly deadline: string;
  /** Only `pull`. @default 'pull' */
  readonly permission?: string;
  /** @default - none */
  readonly description?: string;
  /** @default - the provider's (2 minutes) */
  readonly timeouts?: SwrRepositorySharingTimeouts;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  sharingAccount: { tf: 'sharing_account', type: 'string', required: true },
  deadline: { tf: 'deadline', type: 'string', required: true },
  permission: { tf: 'permission', type: 'string' },
  description: { tf: 'description', type: 'string' },
  timeouts: { tf: 'timeouts', list: false, block: { default: { tf: 'default', type: 'string' } } },
};

/** A `huaweicloud_swr_repository_sharing` resource. */
export class SwrRepositorySharing extends HuaweicloudResource<SwrRepositorySharingConfig> {
  /** The Terraform resource type, `huaweicloud_swr_repository_sharing`. */
  static readonly tfResourceType = 'huaweicloud_swr_repository_sharing';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrRepositorySharingConfig) {
    super(scope, id, SwrRepositorySharing.tfResourceType, SCHEMA, config);
  }

  /** true while the share is valid, false once expired. */
  get status(): IResolvable {
    return this.getBooleanAttribute('status');
  }
}
