import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** `huaweicloud_swr_image_auto_sync`: copy new images to another region. All ForceNew. */
export interface SwrImageAutoSyncConfig extends RegionalConfig {
  /** Organization of the source repository. */
  readonly organization: string;
  /** Repository whose new images are copied. */
  readonly repository: string;
  /** A region listed by `data.huaweicloud_swr_sync_regions`. */
  readonly targetRegion: string;
  /** Organization in the target region (it must exist). */
  readonly targetOrganization: string;
  /** Overwrite images of the same tag at the target. @default false */
  readonly override?: boolean | IResolvable;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  targetRegion: { tf: 'target_region', type: 'string', required: true },
  targetOrganization: { tf: 'target_organization', type: 'string', required: true },
  override: { tf: 'override', type: 'bool' },
};

/** A `huaweicloud_swr_image_auto_sync` resource. */
export class SwrImageAutoSync extends HuaweicloudResource<SwrImageAutoSyncConfig> {
  /** The Terraform resource type, `huaweicloud_swr_image_auto_sync`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_auto_sync';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImageAutoSyncConfig) {
    super(scope, id, SwrImageAutoSync.tfResourceType, SCHEMA, config);
  }

  /** Whether same-tag images at the target are overwritten. */
  get override(): IResolvable {
    return this.getBooleanAttribute('override');
  }
  /** Creation time. */
  get createdAt(): string {
    return this.getStringAttribute('created_at');
  }
  /** Last update time. */
  get updatedAt(): string {
    return this.getStringAttribute('updated_at');
  }
}
