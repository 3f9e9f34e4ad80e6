import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';
import { USERS } from './users.js';
import type { SwrPermissionUser } from './users.js';

export interface SwrOrganizationPermissionsTimeouts {
  readonly create?: string;
  readonly delete?: string;
}

/** `huaweicloud_swr_organization_permissions`. */
export interface SwrOrganizationPermissionsConfig extends RegionalConfig {
  /** ForceNew. */
  readonly organization: string;
  readonly users: SwrPermissionUser[];
  readonly timeouts?: SwrOrganizationPermissionsTimeouts;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string' },
  ...USERS,
  timeouts: {
    tf: 'timeouts',
    list: false,
    block: { create: { tf: 'create', type: 'string' }, delete: { tf: 'delete', type: 'string' } },
  },
};

export class SwrOrganizationPermissions extends HuaweicloudResource<SwrOrganizationPermissionsConfig> {
  static readonly tfResourceType = 'huaweicloud_swr_organization_permissions';

  constructor(scope: Construct, id: string, config: SwrOrganizationPermissionsConfig) {
    super(scope, id, SwrOrganizationPermissions.tfResourceType, SCHEMA, config);
  }

  get creator(): string {
    return this.getStringAttribute('creator');
  }
}
