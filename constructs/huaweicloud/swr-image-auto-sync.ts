import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** `huaweicloud_swr_image_auto_sync`: copy new images to another region. All ForceNew. */
export interface SwrImageAutoSyncConfig extends RegionalConfig {
  readonly organization: string;
  readonly repository: string;
  readonly targetRegion: string;
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

export class SwrImageAutoSync extends HuaweicloudResource<SwrImageAutoSyncConfig> {
  static readonly tfResourceType = 'huaweicloud_swr_image_auto_sync';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImageAutoSyncConfig) {
    super(scope, id, SwrImageAutoSync.tfResourceType, SCHEMA, config);
  }

  get override(): IResolvable {
    return this.getBooleanAttribute('override');
  }
  get createdAt(): string {
    return this.getStringAttribute('created_at');
  }
  get updatedAt(): string {
    return this.getStringAttribute('updated_at');
  }
}
