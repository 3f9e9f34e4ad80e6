import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';
import { USERS } from './users.js';
import type { SwrPermissionUser } from './users.js';

/** `huaweicloud_swr_image_permissions`: user rights on one repository. */
export interface SwrImagePermissionsConfig extends RegionalConfig {
  readonly organization: string;
  readonly repository: string;
  readonly users: SwrPermissionUser[];
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string' },
  repository: { tf: 'repository', type: 'string' },
  ...USERS,
};

export class SwrImagePermissions extends HuaweicloudResource<SwrImagePermissionsConfig> {
  static readonly tfResourceType = 'huaweicloud_swr_image_permissions';

  constructor(scope: Construct, id: string, config: SwrImagePermissionsConfig) {
    super(scope, id, SwrImagePermissions.tfResourceType, SCHEMA, config);
  }
}
