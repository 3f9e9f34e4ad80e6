import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/**
 * `huaweicloud_swr_repository_tag`: gives an image already in a repository another tag (`source_tag` →
 * `destination_tag`), e.g. promote `1.4.2` to `stable`. Arguments other than `override` cannot change in place; with
 * `enableForceNew: 'true'` (or the provider's `enable_force_new`) a change replaces the tag instead of failing.
 */
export interface SwrRepositoryTagConfig extends RegionalConfig {
  /** Organization of the repository. */
  readonly organization: string;
  /** Repository holding the image. */
  readonly repository: string;
  /** The existing tag. */
  readonly sourceTag: string;
  /** The tag to create. */
  readonly destinationTag: string;
  /** Overwrite `destinationTag` if it exists. @default false */
  readonly override?: boolean | IResolvable;
  /** "true" turns changes to non-updatable arguments into a replacement. @default - the provider's enable_force_new */
  readonly enableForceNew?: 'true' | 'false';
}

const SCHEMA: BlockSchema = {
  ...REGION,
  organization: { tf: 'organization', type: 'string', required: true },
  repository: { tf: 'repository', type: 'string', required: true },
  sourceTag: { tf: 'source_tag', type: 'string', required: true },
  destinationTag: { tf: 'destination_tag', type: 'string', required: true },
  override: { tf: 'override', type: 'bool' },
  enableForceNew: { tf: 'enable_force_new', type: 'string' },
};

/** A `huaweicloud_swr_repository_tag` resource. */
export class SwrRepositoryTag extends HuaweicloudResource<SwrRepositoryTagConfig> {
  /** The Terraform resource type, `huaweicloud_swr_repository_tag`. */
  static readonly tfResourceType = 'huaweicloud_swr_repository_tag';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrRepositoryTagConfig) {
    super(scope, id, SwrRepositoryTag.tfResourceType, SCHEMA, config);
  }

  /** The created tag's name. */
  get tag(): string {
    return this.getStringAttribute('tag');
  }
  /** The tag's ID in SWR. */
  get tagId(): number {
    return this.getNumberAttribute('tag_id');
  }
  /** The repository's ID in SWR. */
  get repositoryId(): number {
    return this.getNumberAttribute('repository_id');
  }
  /** The image ID. */
  get imageId(): string {
    return this.getStringAttribute('image_id');
  }
  /** The image manifest (JSON). */
  get manifest(): string {
    return this.getStringAttribute('manifest');
  }
  /** `sha256:…` of the manifest: pin workloads to it. */
  get digest(): string {
    return this.getStringAttribute('digest');
  }
  /** Docker manifest schema version. */
  get schema(): number {
    return this.getNumberAttribute('schema');
  }
  /** Pull address. */
  get path(): string {
    return this.getStringAttribute('path');
  }
  /** Pull address from inside the cluster. */
  get internalPath(): string {
    return this.getStringAttribute('internal_path');
  }
  /** Image size in bytes. */
  get size(): number {
    return this.getNumberAttribute('size');
  }
  /** Whether the image is trusted (signed). */
  get isTrusted(): IResolvable {
    return this.getBooleanAttribute('is_trusted');
  }
  /** Creation time. */
  get created(): string {
    return this.getStringAttribute('created');
  }
  /** Last update time. */
  get updated(): string {
    return this.getStringAttribute('updated');
  }
  /** SWR's tag type code. */
  get tagType(): number {
    return this.getNumberAttribute('tag_type');
  }
}
