import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** `huaweicloud_swr_image_trigger`: redeploys a CCE/CCI workload on push. All ForceNew but `enabled`. */
export interface SwrImageTriggerConfig extends RegionalConfig {
  readonly organization: string;
  readonly repository: string;
  readonly name: string;
  /** `deployments` or `statefulsets`. */
  readonly workloadType: 'deployments' | 'statefulsets' | string;
  readonly workloadName: string;
  readonly namespace: string;
  /** `all`, `tag` or `regular`. */
  readonly conditionType: 'all' | 'tag' | 'regular' | string;
  /** `.*` for all; tags separated by `;` for tag; a regex for regular. */
  readonly conditionValue: string;
  /**
   * Needed when `type` is cce: the provider derives `cluster_name` from it, never the reverse
   * (`huaweicloud/services/swr/resource_huaweicloud_swr_image_trigger.go`). @default - none
   */
  readonly clusterId?: string;
  /** @default - looked up from `clusterId` */
  readonly clusterName?: string;
  /** @default - every container using the image */
  readonly container?: string;
  /** `cce` or `cci`. @default 'cce' */
  readonly type?: 'cce' | 'cci' | string;
  /** A string in the provider's schema: "true" or "false". @default "true" */
  readonly enabled?: 'true' | 'false' | string;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string' },
  repository: { tf: 'repository', type: 'string' },
  name: { tf: 'name', type: 'string' },
  workloadType: { tf: 'workload_type', type: 'string' },
  workloadName: { tf: 'workload_name', type: 'string' },
  namespace: { tf: 'namespace', type: 'string' },
  conditionType: { tf: 'condition_type', type: 'string' },
  conditionValue: { tf: 'condition_value', type: 'string' },
  clusterId: { tf: 'cluster_id', type: 'string' },
  clusterName: { tf: 'cluster_name', type: 'string' },
  container: { tf: 'container', type: 'string' },
  type: { tf: 'type', type: 'string' },
  enabled: { tf: 'enabled', type: 'string' },
};

export class SwrImageTrigger extends HuaweicloudResource<SwrImageTriggerConfig> {
  static readonly tfResourceType = 'huaweicloud_swr_image_trigger';

  constructor(scope: Construct, id: string, config: SwrImageTriggerConfig) {
    super(scope, id, SwrImageTrigger.tfResourceType, SCHEMA, config);
  }

  get createdAt(): string {
    return this.getStringAttribute('created_at');
  }
  get creatorName(): string {
    return this.getStringAttribute('creator_name');
  }
}
