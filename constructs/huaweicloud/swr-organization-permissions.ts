import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';
import { USERS } from './users.js';
import type { SwrPermissionUser } from './users.js';

/** `timeouts` of `huaweicloud_swr_organization_permissions`: create and delete only. */
export interface SwrOrganizationPermissionsTimeouts {
  /** @default '5m' */
  readonly create?: string;
  /** @default '5m' */
  readonly delete?: string;
}

/** `huaweicloud_swr_organization_permissions`. */
export interface SwrOrganizationPermissionsConfig extends RegionalConfig {
  /** ForceNew. */
  readonly organization: string;
  /** The grants, one per user. */
  readonly users: SwrPermissionUser[];
  /** @default - the provider's (5 minutes each) */
  readonly timeouts?: SwrOrganizationPermissionsTimeouts;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  ...USERS,
  timeouts: {
    tf: 'timeouts',
    list: false,
    block: { create: { tf: 'create', type: 'string' }, delete: { tf: 'delete', type: 'string' } },
  },
};

/** A `huaweicloud_swr_organization_permissions` resource. */
export class SwrOrganizationPermissions extends HuaweicloudResource<SwrOrganizationPermissionsConfig> {
  /** The Terraform resource type, `huaweicloud_swr_organization_permissions`. */
  static readonly tfResourceType = 'huaweicloud_swr_organization_permissions';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrOrganizationPermissionsConfig) {
    super(scope, id, SwrOrganizationPermissions.tfResourceType, SCHEMA, config);
  }

  /** Who created the organization. */
  get creator(): string {
    return this.getStringAttribute('creator');
  }

  /** The caller's own permission: a list of `{ user_id, user_name, permission }`, as a token. */
  get selfPermission(): IResolvable {
    return this.interpolationForAttribute('self_permission');
  }
}
