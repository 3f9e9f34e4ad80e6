import { TerraformResource } from '../lib/cdktf.js';
import type { Construct, TerraformMetaArguments } from '../lib/cdktf.js';
import { blockToHclTerraform, blockToTerraform } from './schema.js';
import type { BlockSchema } from './schema.js';
import { PROVIDER_METADATA } from './provider.js';

/** Every SWR resource takes `region` (Optional, Computed, ForceNew in the Go schema). */
export interface RegionalConfig extends TerraformMetaArguments {
  /** Region of the resource. @default - the provider's region */
  readonly region?: string;
}

export const REGION: BlockSchema = { region: { tf: 'region', type: 'string' } };

/** The `timeouts { create, update, delete }` block several SWR resources share. */
export const TIMEOUTS: BlockSchema[string] = {
  tf: 'timeouts',
  list: false,
  block: {
    create: { tf: 'create', type: 'string' },
    update: { tf: 'update', type: 'string' },
    delete: { tf: 'delete', type: 'string' },
  },
};

/** Shared behaviour of the hand-written bindings: config held as given, converted through the schema at synth. */
export abstract class HuaweicloudResource<C extends TerraformMetaArguments> extends TerraformResource {
  /** The config as passed in (the generated bindings expose the same as `xxxInput` getters). */
  readonly config: C;
  private readonly schema: BlockSchema;

  protected constructor(scope: Construct, id: string, resourceType: string, schema: BlockSchema, config: C) {
    super(scope, id, {
      terraformResourceType: resourceType,
      terraformGeneratorMetadata: PROVIDER_METADATA,
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach,
    });
    this.config = config;
    this.schema = schema;
  }

  get id(): string {
    return this.getStringAttribute('id');
  }

  get region(): string {
    return this.getStringAttribute('region');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return blockToTerraform(this.schema, this.config) as Record<string, unknown>;
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return blockToHclTerraform(this.schema, this.config) as Record<string, unknown>;
  }
}
