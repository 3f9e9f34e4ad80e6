/**
 * Argument schemas for the hand-written huaweicloud bindings, and the one function that turns a camelCase config
 * into the snake_case JSON (and HCL) Terraform reads. No cdktf provider is published for huaweicloud/huaweicloud, so
 * instead of ~2,000 generated lines per resource, each binding declares its arguments as data (names, types and
 * nesting transcribed from the provider's Go schema, pinned by test/constructs/fixtures/huaweicloud-schema.json) and shares this converter.
 */
import {
  Tokenization,
  booleanToHclTerraform,
  booleanToTerraform,
  canInspect,
  hashMapper,
  hashMapperHcl,
  listMapper,
  listMapperHcl,
  numberToHclTerraform,
  numberToTerraform,
  stringToHclTerraform,
  stringToTerraform,
} from '../lib/cdktf.js';

/** Argument value types: TypeString, TypeInt/TypeFloat, TypeBool, a list (or set) of strings, a map of strings. */
export type Scalar = 'string' | 'number' | 'bool' | 'stringList' | 'stringMap';

/**
 * One argument: its Terraform name, type and whether the provider requires it. `block` marks a nested block
 * (`list` = repeatable, `maxItems` its limit); a block with `list: false` is a single block such as `timeouts`.
 */
export type ArgSchema = ScalarArg | BlockArg;

/** An attribute argument. */
export interface ScalarArg {
  /** The Terraform (snake_case) name. */
  readonly tf: string;
  /** Its value type. */
  readonly type: Scalar;
  /** Required by the provider. @default false */
  readonly required?: boolean;
}

/** A nested block argument. */
export interface BlockArg {
  /** The Terraform (snake_case) name. */
  readonly tf: string;
  /** The block's own arguments. */
  readonly block: BlockSchema;
  /** Repeatable (a list of blocks) rather than a single block. */
  readonly list: boolean;
  /** Required by the provider. @default false */
  readonly required?: boolean;
  /** The provider's MaxItems. @default - no limit */
  readonly maxItems?: number;
}

/** camelCase config key → argument. */
export type BlockSchema = Readonly<Record<string, ArgSchema>>;

type Mapper = (x: unknown) => unknown;

const scalarJson: Record<Scalar, Mapper> = {
  string: stringToTerraform,
  number: numberToTerraform,
  bool: booleanToTerraform,
  stringList: listMapper(stringToTerraform, false),
  stringMap: hashMapper(stringToTerraform),
};

const scalarHcl: Record<Scalar, { map: Mapper; type: string; storage: string }> = {
  string: { map: stringToHclTerraform, type: 'simple', storage: 'string' },
  number: { map: numberToHclTerraform, type: 'simple', storage: 'number' },
  bool: { map: booleanToHclTerraform, type: 'simple', storage: 'boolean' },
  stringList: { map: listMapperHcl(stringToHclTerraform, false), type: 'list', storage: 'stringList' },
  stringMap: { map: hashMapperHcl(stringToHclTerraform), type: 'map', storage: 'stringMap' },
};

/** Tokens (a whole block given as a reference) pass through untouched, as in generated bindings. */
function opaque(struct: unknown): boolean {
  return !canInspect(struct) || Tokenization.isResolvable(struct);
}

export function blockToTerraform(schema: BlockSchema, struct: unknown): unknown {
  if (opaque(struct)) return struct;
  const values = struct as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, arg] of Object.entries(schema)) {
    const value = values[key];
    if ('block' in arg) {
      const one = (x: unknown): unknown => blockToTerraform(arg.block, x);
      out[arg.tf] = arg.list ? listMapper(one, true)(value) : one(value);
    } else {
      out[arg.tf] = scalarJson[arg.type](value);
    }
  }
  return out;
}

export function blockToHclTerraform(schema: BlockSchema, struct: unknown): unknown {
  if (opaque(struct)) return struct;
  const values = struct as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, arg] of Object.entries(schema)) {
    const value = values[key];
    if ('block' in arg) {
      const one = (x: unknown): unknown => blockToHclTerraform(arg.block, x);
      out[arg.tf] = {
        value: arg.list ? listMapperHcl(one, true)(value) : one(value),
        isBlock: true,
        type: 'list',
        storageClassType: `${arg.tf}List`,
      };
    } else {
      const hcl = scalarHcl[arg.type];
      out[arg.tf] = { value: hcl.map(value), isBlock: false, type: hcl.type, storageClassType: hcl.storage };
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => (v as { value?: unknown }).value !== undefined));
}
