/**
 * Data sources `huaweicloud_swr_organizations`, `_repositories`, `_image_tags` and `_sync_regions`. Their computed
 * lists of objects are tokens (`IResolvable`): read fields with `Fn.lookup(Fn.element(list, i), 'name')` or iterate
 * with `TerraformIterator.fromList`.
 */
import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudDataSource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/** Filters of `data.huaweicloud_swr_organizations`. */
export interface DataSwrOrganizationsConfig extends RegionalConfig {
  /** Only the organization of this name. @default - all the caller can see */
  readonly name?: string;
}

const ORGANIZATIONS: BlockSchema = { ...REGION, name: { tf: 'name', type: 'string' } };

/** The organizations the caller can see. */
export class DataSwrOrganizations extends HuaweicloudDataSource<DataSwrOrganizationsConfig> {
  /** The Terraform data source type, `huaweicloud_swr_organizations`. */
  static readonly tfResourceType = 'huaweicloud_swr_organizations';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = ORGANIZATIONS;

  constructor(scope: Construct, id: string, config: DataSwrOrganizationsConfig = {}) {
    super(scope, id, DataSwrOrganizations.tfResourceType, ORGANIZATIONS, config);
  }

  /** `{ id, name, creator, permission, access_user_count, repo_count }` per organization. */
  get organizations(): IResolvable {
    return this.objectList('organizations');
  }
}

/** Filters of `data.huaweicloud_swr_repositories`. */
export interface DataSwrRepositoriesConfig extends RegionalConfig {
  /** @default - every organization */
  readonly organization?: string;
  /** @default - every repository */
  readonly name?: string;
  /** @default - every category */
  readonly category?: string;
  /** "true" or "false": a string filter here, though the resource's `is_public` is a bool. @default - both */
  readonly isPublic?: 'true' | 'false';
}

const REPOSITORIES: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string' },
  name: { tf: 'name', type: 'string' },
  category: { tf: 'category', type: 'string' },
  isPublic: { tf: 'is_public', type: 'string' },
};

/** Repositories matching the filters. */
export class DataSwrRepositories extends HuaweicloudDataSource<DataSwrRepositoriesConfig> {
  /** The Terraform data source type, `huaweicloud_swr_repositories`. */
  static readonly tfResourceType = 'huaweicloud_swr_repositories';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = REPOSITORIES;

  constructor(scope: Construct, id: string, config: DataSwrRepositoriesConfig = {}) {
    super(scope, id, DataSwrRepositories.tfResourceType, REPOSITORIES, config);
  }

  /** `{ organization, name, category, is_public, path, internal_path, tags, num_images, size, … }` per repository. */
  get repositories(): IResolvable {
    return this.objectList('repositories');
  }
}

/** Filters of `data.huaweicloud_swr_image_tags`. */
export interface DataSwrImageTagsConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository to list. */
  readonly repository: string;
  /** Only this tag. @default - every tag */
  readonly name?: string;
  /** Only tags of this manifest digest. @default - every digest */
  readonly digest?: string;
}

const IMAGE_TAGS: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  name: { tf: 'name', type: 'string' },
  digest: { tf: 'digest', type: 'string' },
};

/** The tags of one repository, with digests: pin a workload to what SWR holds. */
export class DataSwrImageTags extends HuaweicloudDataSource<DataSwrImageTagsConfig> {
  /** The Terraform data source type, `huaweicloud_swr_image_tags`. */
  static readonly tfResourceType = 'huaweicloud_swr_image_tags';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = IMAGE_TAGS;

  constructor(scope: Construct, id: string, config: DataSwrImageTagsConfig) {
    super(scope, id, DataSwrImageTags.tfResourceType, IMAGE_TAGS, config);
  }

  /** `{ name, digest, path, internal_path, size, image_id, manifest, type, created_at, … }` per tag. */
  get imageTags(): IResolvable {
    return this.objectList('image_tags');
  }
}

/** `data.huaweicloud_swr_sync_regions` takes only `region`. */
export type DataSwrSyncRegionsConfig = RegionalConfig;

const SYNC_REGIONS: BlockSchema = { ...REGION };

/** The regions images of this region can be synchronized to (auto and manual sync targets). */
export class DataSwrSyncRegions extends HuaweicloudDataSource<DataSwrSyncRegionsConfig> {
  /** The Terraform data source type, `huaweicloud_swr_sync_regions`. */
  static readonly tfResourceType = 'huaweicloud_swr_sync_regions';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SYNC_REGIONS;

  constructor(scope: Construct, id: string, config: DataSwrSyncRegionsConfig = {}) {
    super(scope, id, DataSwrSyncRegions.tfResourceType, SYNC_REGIONS, config);
  }

  /** Region IDs. */
  get syncRegions(): string[] {
    return this.getListAttribute('sync_regions');
  }
}
