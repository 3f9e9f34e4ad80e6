import { TerraformDataSource, TerraformResource, checkFramework } from '../lib/cdktf.js';
import type { Construct, IResolvable, TerraformMetaArguments } from '../lib/cdktf.js';
import { fail } from '../lib/validation.js';
import { blockToHclTerraform, blockToTerraform } from './schema.js';
import type { BlockSchema } from './schema.js';
import { PROVIDER_METADATA } from './provider.js';

/** Every SWR resource and data source takes `region` (Optional + Computed in the Go schema; ForceNew on resources). */
export interface RegionalConfig extends TerraformMetaArguments {
  /** Region of the resource. @default - the provider's region */
  readonly region?: string;
}

export const REGION: BlockSchema = { region: { tf: 'region', type: 'string' } };

/** The `timeouts { create, update, delete }` block of resources that declare those three. */
export const TIMEOUTS: BlockSchema[string] = {
  tf: 'timeouts',
  list: false,
  block: {
    create: { tf: 'create', type: 'string' },
    update: { tf: 'update', type: 'string' },
    delete: { tf: 'delete', type: 'string' },
  },
};

/** JavaScript callers get no type check: a missing required argument fails here, naming it, not at plan. */
function checkRequired(scope: Construct, schema: BlockSchema, config: object): void {
  const values = config as Record<string, unknown>;
  for (const [key, arg] of Object.entries(schema)) {
    if (arg.required && values[key] === undefined)
      fail(scope, key, undefined, `is required (the provider's \`${arg.tf}\`)`);
  }
}

function metaArguments(config: TerraformMetaArguments) {
  return {
    terraformGeneratorMetadata: PROVIDER_METADATA,
    provider: config.provider,
    dependsOn: config.dependsOn,
    count: config.count,
    lifecycle: config.lifecycle,
    forEach: config.forEach,
  };
}

/** Shared behaviour of the hand-written bindings: config held as given, converted through the schema at synth. */
export abstract class HuaweicloudResource<C extends TerraformMetaArguments> extends TerraformResource {
  /** The config as passed in (the generated bindings expose the same as `xxxInput` getters). */
  readonly config: C;
  readonly #schema: BlockSchema;

  protected constructor(scope: Construct, id: string, resourceType: string, schema: BlockSchema, config: C) {
    super(scope, id, {
      terraformResourceType: resourceType,
      ...metaArguments(config),
      provisioners: config.provisioners,
      connection: config.connection,
    });
    checkFramework(this);
    checkRequired(this, schema, config);
    this.config = config;
    this.#schema = schema;
  }

  /** The resource ID. */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The region the resource is in. */
  get region(): string {
    return this.getStringAttribute('region');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return blockToTerraform(this.#schema, this.config) as Record<string, unknown>;
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return blockToHclTerraform(this.#schema, this.config) as Record<string, unknown>;
  }
}

/** As `HuaweicloudResource`, for data sources (`data.huaweicloud_*`). */
export abstract class HuaweicloudDataSource<C extends TerraformMetaArguments> extends TerraformDataSource {
  /** The config as passed in. */
  readonly config: C;
  readonly #schema: BlockSchema;

  protected constructor(scope: Construct, id: string, dataSourceType: string, schema: BlockSchema, config: C) {
    super(scope, id, { terraformResourceType: dataSourceType, ...metaArguments(config) });
    checkFramework(this);
    checkRequired(this, schema, config);
    this.config = config;
    this.#schema = schema;
  }

  /** The data source's ID. */
  get id(): string {
    return this.getStringAttribute('id');
  }

  /** The region read. */
  get region(): string {
    return this.getStringAttribute('region');
  }

  /** A computed list of objects, as a token for `Fn.element`, `Fn.lookup` or a `TerraformIterator`. */
  protected objectList(attribute: string): IResolvable {
    return this.interpolationForAttribute(attribute);
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return blockToTerraform(this.#schema, this.config) as Record<string, unknown>;
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return blockToHclTerraform(this.#schema, this.config) as Record<string, unknown>;
  }
}
