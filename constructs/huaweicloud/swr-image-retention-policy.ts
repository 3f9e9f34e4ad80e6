import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** Tags exempt from a retention policy. */
export interface SwrImageRetentionPolicyTagSelector {
  /** `label` (a tag name) or `regexp`. @default - computed by the provider */
  readonly kind?: 'label' | 'regexp' | string;
  /** The tag (label) or regular expression (regexp). @default - computed by the provider */
  readonly pattern?: string;
}

/** `huaweicloud_swr_image_retention_policy`. */
export interface SwrImageRetentionPolicyConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository the policy cleans. */
  readonly repository: string;
  /** `date_rule` or `tag_rule`. ForceNew. */
  readonly type: 'date_rule' | 'tag_rule' | string;
  /** Days to keep (date_rule) or images to keep (tag_rule). */
  readonly number: number;
  /** Tags matched here are exempt from the policy. @default - none */
  readonly tagSelectors?: SwrImageRetentionPolicyTagSelector[];
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  type: { tf: 'type', type: 'string', required: true },
  number: { tf: 'number', type: 'number', required: true },
  tagSelectors: {
    tf: 'tag_selectors',
    list: true,
    block: { kind: { tf: 'kind', type: 'string' }, pattern: { tf: 'pattern', type: 'string' } },
  },
};

/** A `huaweicloud_swr_image_retention_policy` resource. */
export class SwrImageRetentionPolicy extends HuaweicloudResource<SwrImageRetentionPolicyConfig> {
  /** The Terraform resource type, `huaweicloud_swr_image_retention_policy`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_retention_policy';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImageRetentionPolicyConfig) {
    super(scope, id, SwrImageRetentionPolicy.tfResourceType, SCHEMA, config);
  }

  /** The policy's ID in SWR. */
  get retentionId(): string {
    return this.getStringAttribute('retention_id');
  }
}
