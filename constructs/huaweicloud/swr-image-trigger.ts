import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** `huaweicloud_swr_image_trigger`: redeploys a CCE/CCI workload on push. All ForceNew but `enabled`. */
export interface SwrImageTriggerConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository whose pushes fire the trigger. */
  readonly repository: string;
  /** Trigger name, unique in the repository. */
  readonly name: string;
  /** `deployments` or `statefulsets`. */
  readonly workloadType: 'deployments' | 'statefulsets' | string;
  /** The workload to update. */
  readonly workloadName: string;
  /** Namespace of the workload. */
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
  /** Container to update. @default - every container using the image */
  readonly container?: string;
  /** `cce` or `cci`. @default 'cce' */
  readonly type?: 'cce' | 'cci' | string;
  /** A string in the provider's schema: "true" or "false". @default "true" */
  readonly enabled?: 'true' | 'false' | string;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  name: { tf: 'name', type: 'string', required: true },
  workloadType: { tf: 'workload_type', type: 'string', required: true },
  workloadName: { tf: 'workload_name', type: 'string', required: true },
  namespace: { tf: 'namespace', type: 'string', required: true },
  conditionType: { tf: 'condition_type', type: 'string', required: true },
  conditionValue: { tf: 'condition_value', type: 'string', required: true },
  clusterId: { tf: 'cluster_id', type: 'string' },
  clusterName: { tf: 'cluster_name', type: 'string' },
  container: { tf: 'container', type: 'string' },
  type: { tf: 'type', type: 'string' },
  enabled: { tf: 'enabled', type: 'string' },
};

/** A `huaweicloud_swr_image_trigger` resource. */
export class SwrImageTrigger extends HuaweicloudResource<SwrImageTriggerConfig> {
  /** The Terraform resource type, `huaweicloud_swr_image_trigger`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_trigger';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrImageTriggerConfig) {
    super(scope, id, SwrImageTrigger.tfResourceType, SCHEMA, config);
  }

  /** Given or computed by the provider. */
  get clusterId(): string {
    return this.getStringAttribute('cluster_id');
  }
  /** Given or looked up from `cluster_id`. */
  get clusterName(): string {
    return this.getStringAttribute('cluster_name');
  }
  /** Container updated (computed when not given). */
  get container(): string {
    return this.getStringAttribute('container');
  }
  /** `cce` or `cci`. */
  get type(): string {
    return this.getStringAttribute('type');
  }
  /** "true" or "false". */
  get enabled(): string {
    return this.getStringAttribute('enabled');
  }
  /** Creation time. */
  get createdAt(): string {
    return this.getStringAttribute('created_at');
  }
  /** Who created the trigger. */
  get creatorName(): string {
    return this.getStringAttribute('creator_name');
  }
}
