import type { Construct } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** `timeouts` of `huaweicloud_swr_organization`: create and delete only. */
export interface SwrOrganizationTimeouts {
  /** @default '5m' */
  readonly create?: string;
  /** @default '5m' */
  readonly delete?: string;
}

/** `huaweicloud_swr_organization`. Every argument is ForceNew. */
export interface SwrOrganizationConfig extends RegionalConfig {
  /** Unique across all of SWR (the naming rules are in docs/constructs.md; the provider does not check them). */
  readonly name: string;
  /** @default - the provider's (5 minutes each) */
  readonly timeouts?: SwrOrganizationTimeouts;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  name: { tf: 'name', type: 'string', required: true },
  timeouts: {
    tf: 'timeouts',
    list: false,
    block: { create: { tf: 'create', type: 'string' }, delete: { tf: 'delete', type: 'string' } },
  },
};

/** A `huaweicloud_swr_organization` resource. */
export class SwrOrganization extends HuaweicloudResource<SwrOrganizationConfig> {
  /** The Terraform resource type, `huaweicloud_swr_organization`. */
  static readonly tfResourceType = 'huaweicloud_swr_organization';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrOrganizationConfig) {
    super(scope, id, SwrOrganization.tfResourceType, SCHEMA, config);
  }

  /** The organization name. */
  get name(): string {
    return this.getStringAttribute('name');
  }
  /** Who created the organization. */
  get creator(): string {
    return this.getStringAttribute('creator');
  }
  /** Manage | Write | Read: the caller's own permission. */
  get permission(): string {
    return this.getStringAttribute('permission');
  }
  /** `swr.{region}.{cloud}`. */
  get loginServer(): string {
    return this.getStringAttribute('login_server');
  }
}
