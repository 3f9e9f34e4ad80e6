/**
 * Minimal bindings of our own for the four `hashicorp/kubernetes` types the constructs emit
 * (`kubernetes_secret_v1`, `kubernetes_deployment_v1`, `kubernetes_stateful_set_v1` and the provider block), for
 * apps where the prebuilt `@cdktf/provider-kubernetes` cannot be used: it is built on `cdktf`, and npm has no CDK
 * Terrain build of it. They take the prebuilt bindings' camelCase config and write the same JSON: keys become
 * snake_case, except inside the map-valued arguments (labels, annotations, data, …) whose keys are user data.
 * No HCL output and no typed getters beyond `metadata.name`; `addOverride` works as on any resource.
 */
import { TerraformProvider, TerraformResource, Token, Tokenization, checkFramework } from './framework.js';
import type { Construct, TerraformMetaArguments, TerraformProviderGeneratorMetadata } from './framework.js';

/** The kubernetes provider release the JSON follows (the prebuilt bindings' generator metadata). */
const METADATA: TerraformProviderGeneratorMetadata = {
  providerName: 'kubernetes',
  providerVersion: '2.38.0',
  providerVersionConstraint: '~> 2.0',
};

/**
 * Arguments whose value is a map with user-chosen keys (`map(string)` in the provider schema) among those the
 * constructs and their users set: their keys are copied as they are.
 */
const MAP_ARGUMENTS = new Set([
  'labels',
  'annotations',
  'match_labels',
  'node_selector',
  'requests',
  'limits',
  'data',
  'binary_data',
  'data_wo',
]);

/** `env` is a list of `{ name, value }` blocks in a container, but a `map(string)` in the provider's `exec` block. */
const isMapValued = (name: string, value: unknown) =>
  MAP_ARGUMENTS.has(name) || (name === 'env' && typeof value === 'object' && value !== null && !Array.isArray(value));

const META_KEYS = new Set(['provider', 'dependsOn', 'count', 'lifecycle', 'provisioners', 'connection', 'forEach']);

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** camelCase config → the provider's snake_case JSON; tokens and map-argument contents pass through. */
export function toTerraformJson(value: unknown, mapValue = false): unknown {
  if (value === undefined || value === null) return undefined;
  if (Tokenization.isResolvable(value) || (typeof value === 'string' && Token.isUnresolved(value))) return value;
  if (Array.isArray(value)) return value.map((v) => toTerraformJson(v));
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (mapValue) {
      out[key] = v;
      continue;
    }
    const name = snake(key);
    const converted = isMapValued(name, v) ? toTerraformJson(v, true) : toTerraformJson(v);
    if (converted !== undefined) out[name] = converted;
  }
  return out;
}

type Config = TerraformMetaArguments & Record<string, unknown>;

function body(config: Config): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !META_KEYS.has(k)));
}

/** A kubernetes resource whose arguments are given as the prebuilt bindings' camelCase config. */
abstract class KubernetesResource extends TerraformResource {
  private readonly body: Record<string, unknown>;

  protected constructor(scope: Construct, id: string, type: string, config: Config) {
    super(scope, id, {
      terraformResourceType: type,
      terraformGeneratorMetadata: METADATA,
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach,
    });
    checkFramework(this);
    this.body = body(config);
  }

  /** `metadata[0].name` as a reference, as the prebuilt bindings' `metadata.name`. */
  get metadata(): { readonly name: string; readonly namespace: string; readonly uid: string } {
    return {
      name: this.getStringAttribute('metadata[0].name'),
      namespace: this.getStringAttribute('metadata[0].namespace'),
      uid: this.getStringAttribute('metadata[0].uid'),
    };
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return toTerraformJson(this.body) as Record<string, unknown>;
  }
}

/** `kubernetes_secret_v1`. */
export class SecretV1 extends KubernetesResource {
  static readonly tfResourceType = 'kubernetes_secret_v1';
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id, SecretV1.tfResourceType, config);
  }
}

/** `kubernetes_deployment_v1`. */
export class DeploymentV1 extends KubernetesResource {
  static readonly tfResourceType = 'kubernetes_deployment_v1';
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id, DeploymentV1.tfResourceType, config);
  }
}

/** `kubernetes_stateful_set_v1`. */
export class StatefulSetV1 extends KubernetesResource {
  static readonly tfResourceType = 'kubernetes_stateful_set_v1';
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id, StatefulSetV1.tfResourceType, config);
  }
}

/** The `kubernetes` provider block (config as `KubernetesProviderConfig`: `configPath`, `host`, `exec`, …). */
export class KubernetesProvider extends TerraformProvider {
  static readonly tfResourceType = 'kubernetes';
  private readonly config: Record<string, unknown>;

  constructor(scope: Construct, id: string, config: Record<string, unknown> & { alias?: string } = {}) {
    super(scope, id, {
      terraformResourceType: KubernetesProvider.tfResourceType,
      terraformGeneratorMetadata: METADATA,
      terraformProviderSource: 'kubernetes',
    });
    this.config = config;
  }

  override get alias(): string | undefined {
    return this.config.alias as string | undefined;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return toTerraformJson(this.config) as Record<string, unknown>;
  }
}
