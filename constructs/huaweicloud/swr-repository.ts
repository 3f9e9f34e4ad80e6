import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION, TIMEOUTS } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** Categories SWR accepts: the provider's closed set (StringInSlice in `huaweicloud/services/swr/resource_huaweicloud_swr_repository.go`). */
export const SWR_REPOSITORY_CATEGORIES = [
  'app_server',
  'linux',
  'framework_app',
  'database',
  'lang',
  'other',
  'windows',
  'arm',
] as const;
/** A repository category SWR accepts. */
export type SwrRepositoryCategory = (typeof SWR_REPOSITORY_CATEGORIES)[number];

/** `timeouts` of `huaweicloud_swr_repository`. */
export interface SwrRepositoryTimeouts {
  /** @default '2m' */
  readonly create?: string;
  /** @default '2m' */
  readonly update?: string;
  /** @default '2m' */
  readonly delete?: string;
}

/** `huaweicloud_swr_repository`. */
export interface SwrRepositoryConfig extends RegionalConfig {
  /** ForceNew. */
  readonly organization: string;
  /** ForceNew. */
  readonly name: string;
  /** @default false */
  readonly isPublic?: boolean | IResolvable;
  /** @default - none */
  readonly description?: string;
  /** One of `SWR_REPOSITORY_CATEGORIES`. @default - unset (SWR shows 'other') */
  readonly category?: SwrRepositoryCategory | string;
  /** @default - the provider's (2 minutes each) */
  readonly timeouts?: SwrRepositoryTimeouts;
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  name: { tf: 'name', type: 'string', required: true },
  isPublic: { tf: 'is_public', type: 'bool' },
  description: { tf: 'description', type: 'string' },
  category: { tf: 'category', type: 'string' },
  timeouts: TIMEOUTS,
};

/** A `huaweicloud_swr_repository` resource. */
export class SwrRepository extends HuaweicloudResource<SwrRepositoryConfig> {
  /** The Terraform resource type, `huaweicloud_swr_repository`. */
  static readonly tfResourceType = 'huaweicloud_swr_repository';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrRepositoryConfig) {
    super(scope, id, SwrRepository.tfResourceType, SCHEMA, config);
  }

  /** The repository name. */
  get name(): string {
    return this.getStringAttribute('name');
  }
  /** The organization name. */
  get organization(): string {
    return this.getStringAttribute('organization');
  }
  /** The repository's ID in SWR. */
  get repositoryId(): number {
    return this.getNumberAttribute('repository_id');
  }
  /** Pull address. */
  get path(): string {
    return this.getStringAttribute('path');
  }
  /** Pull address from inside the cluster. */
  get internalPath(): string {
    return this.getStringAttribute('internal_path');
  }
  /** Number of images (tags). */
  get numImages(): number {
    return this.getNumberAttribute('num_images');
  }
  /** Total size in bytes. */
  get size(): number {
    return this.getNumberAttribute('size');
  }
}
