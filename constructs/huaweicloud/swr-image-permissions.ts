import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';
import { USERS } from './users.js';
import type { SwrPermissionUser } from './users.js';

/** `huaweicloud_swr_image_permissions`: user rights on one repository. */
export interface SwrImagePermissionsConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository the rights apply to. */
  readonly repository: string;
  /** The grants, one per user. */
  readonly users: SwrPermissionUser[];
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  ...USERS,
};

/** A `huaweicloud_swr_image_permissions` resource. */
export class SwrImagePermissions extends HuaweicloudResource<SwrImagePermissionsConfig> {
  /** The Terraform resource type, `huaweicloud_swr_image_permissions`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_permissions';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImagePermissionsConfig) {
    super(scope, id, SwrImagePermissions.tfResourceType, SCHEMA, config);
  }

  /** The caller's own permission: a list of `{ user_id, user_name, permission }`, as a token. */
  get selfPermission(): IResolvable {
    return this.interpolationForAttribute('self_permission');
  }
}
