import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/**
 * `huaweicloud_swr_image_manual_sync`: copies the listed tags to an organization in another region once, when
 * created (use `huaweicloud_swr_image_auto_sync` to copy every new push). Arguments cannot change in place; with
 * `enableForceNew: 'true'` a change re-runs the sync as a replacement.
 */
export interface SwrImageManualSyncConfig extends RegionalConfig {
  /** Organization of the source repository. */
  readonly organization: string;
  /** Repository to copy from. */
  readonly repository: string;
  /** Tags to copy. */
  readonly imageTag: string[];
  /** A region listed by the `huaweicloud_swr_sync_regions` data source. */
  readonly targetRegion: string;
  /** Organization in the target region (it must exist). */
  readonly targetOrganization: string;
  /** Overwrite tags that exist at the target. @default false */
  readonly override?: boolean | IResolvable;
  /** "true" turns changes into a replacement. @default - the provider's enable_force_new */
  readonly enableForceNew?: 'true' | 'false';
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  imageTag: { tf: 'image_tag', type: 'stringList', required: true },
  targetRegion: { tf: 'target_region', type: 'string', required: true },
  targetOrganization: { tf: 'target_organization', type: 'string', required: true },
  override: { tf: 'override', type: 'bool' },
  enableForceNew: { tf: 'enable_force_new', type: 'string' },
};

/** A `huaweicloud_swr_image_manual_sync` resource. */
export class SwrImageManualSync extends HuaweicloudResource<SwrImageManualSyncConfig> {
  /** The Terraform resource type, `huaweicloud_swr_image_manual_sync`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_manual_sync';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImageManualSyncConfig) {
    super(scope, id, SwrImageManualSync.tfResourceType, SCHEMA, config);
  }
}
