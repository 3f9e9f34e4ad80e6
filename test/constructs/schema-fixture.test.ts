/**
 * The bindings against a snapshot of the provider's Go schema (fixtures/huaweicloud-schema.json, transcribed at a
 * named commit): every argument's Terraform name, type, required/optional flag and nested block, the TypeScript
 * config interfaces' optional marks, and a getter per computed attribute. A provider release becomes a fixture
 * update plus the differences listed here, not a surprise at `terraform plan`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { HuaweicloudProvider, huaweicloud as hw } from '../../constructs/index.js';
import type { BlockSchema } from '../../constructs/huaweicloud/schema.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const FIXTURE = join(root, 'test', 'constructs', 'fixtures', 'huaweicloud-schema.json');

interface FixtureAttribute {
  type: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}
interface FixtureBlock {
  nesting: 'list' | 'single';
  required?: boolean;
  max_items?: number;
  attributes: Record<string, FixtureAttribute>;
}
interface FixtureEntry {
  file: string;
  attributes: Record<string, FixtureAttribute>;
  blocks: Record<string, FixtureBlock>;
}
interface Fixture {
  commit: string;
  provider: FixtureEntry;
  resources: Record<string, FixtureEntry>;
  data_sources: Record<string, FixtureEntry>;
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;

interface Binding {
  readonly tfResourceType: string;
  readonly schema: BlockSchema;
  readonly name: string;
  readonly prototype: object;
}

const RESOURCES: Binding[] = [
  hw.SwrOrganization,
  hw.SwrOrganizationPermissions,
  hw.SwrRepository,
  hw.SwrRepositorySharing,
  hw.SwrImagePermissions,
  hw.SwrImageRetentionPolicy,
  hw.SwrImageTrigger,
  hw.SwrImageAutoSync,
  hw.SwrRepositoryTag,
  hw.SwrImageManualSync,
  hw.SwrTemporaryLoginCommand,
];
const DATA_SOURCES: Binding[] = [
  hw.DataSwrOrganizations,
  hw.DataSwrRepositories,
  hw.DataSwrImageTags,
  hw.DataSwrSyncRegions,
];

const SCALAR: Record<string, string> = {
  string: 'string',
  number: 'number',
  bool: 'bool',
  'list(string)': 'stringList',
  'map(string)': 'stringMap',
};

const isArgument = (a: FixtureAttribute) => a.required === true || a.optional === true;

/** Every difference between a binding's schema and the fixture's, as readable lines. */
function differences(
  where: string,
  schema: BlockSchema,
  attributes: Record<string, FixtureAttribute>,
  blocks: Record<string, FixtureBlock>,
  meta: string[] = [],
): string[] {
  const out: string[] = [];
  const bound = new Map(Object.values(schema).map((a) => [a.tf, a]));
  const expected = new Set([
    ...Object.keys(attributes).filter((k) => isArgument(attributes[k]!)),
    ...Object.keys(blocks),
  ]);
  for (const name of expected) if (!bound.has(name)) out.push(`${where}: argument "${name}" is not bound`);
  for (const name of bound.keys())
    if (!expected.has(name) && !meta.includes(name))
      out.push(`${where}: "${name}" is bound but not in the provider schema`);
  for (const [name, arg] of bound) {
    const attribute = attributes[name];
    const block = blocks[name];
    if ('block' in arg) {
      if (!block) {
        if (attribute)
          out.push(`${where}: "${name}" is bound as a block but is an attribute of type ${attribute.type}`);
        continue;
      }
      if (arg.list !== (block.nesting === 'list'))
        out.push(`${where}: block "${name}" nesting is ${block.nesting}, bound as ${arg.list ? 'list' : 'single'}`);
      if ((arg.maxItems ?? undefined) !== block.max_items)
        out.push(`${where}: block "${name}" max_items is ${block.max_items}, bound as ${arg.maxItems}`);
      if ((arg.required ?? false) !== (block.required ?? false))
        out.push(`${where}: block "${name}" required is ${block.required ?? false}`);
      out.push(...differences(`${where}.${name}`, arg.block, block.attributes, {}));
    } else if (attribute) {
      if (SCALAR[attribute.type] !== arg.type)
        out.push(`${where}: "${name}" has type ${attribute.type}, bound as ${arg.type}`);
      if ((arg.required ?? false) !== (attribute.required ?? false))
        out.push(`${where}: "${name}" required is ${attribute.required ?? false}, bound as ${arg.required ?? false}`);
    } else if (block) {
      out.push(`${where}: "${name}" is a block in the provider schema, bound as a ${arg.type}`);
    }
  }
  return out;
}

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function hasGetter(proto: object, name: string): boolean {
  for (let p: object | null = proto; p; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return typeof d.get === 'function';
  }
  return false;
}

/** The TypeScript view of the config interfaces: which properties are optional, and their nested types. */
function interfaceChecker() {
  const dir = join(root, 'constructs', 'huaweicloud');
  const files = ts.sys.readDirectory(dir, ['.ts']);
  const program = ts.createProgram(files, {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const types = new Map<string, ts.Type>();
  for (const file of files) {
    const source = program.getSourceFile(file)!;
    for (const statement of source.statements) {
      if ((ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) && statement.name) {
        types.set(statement.name.text, checker.getTypeAtLocation(statement.name));
      }
    }
  }

  const element = (type: ts.Type): ts.Type => {
    const t = checker.getNonNullableType(type);
    if (t.isUnion()) {
      // `T[] | IResolvable`: the array member carries the shape.
      const array = t.types.find((m) => checker.isArrayType(m));
      if (array) return element(array);
    }
    return checker.isArrayType(t) ? checker.getTypeArguments(t as ts.TypeReference)[0]! : t;
  };

  const check = (where: string, type: ts.Type, schema: BlockSchema): string[] => {
    const out: string[] = [];
    for (const [key, arg] of Object.entries(schema)) {
      const prop = type.getProperty(key);
      if (!prop) {
        out.push(`${where}.${key}: not a property of the config interface`);
        continue;
      }
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      if (optional === (arg.required ?? false))
        out.push(
          `${where}.${key}: ${optional ? 'optional' : 'required'} in TypeScript, ${arg.required ? 'required' : 'optional'} in the provider`,
        );
      if ('block' in arg) {
        const decl = prop.valueDeclaration ?? prop.declarations?.[0];
        out.push(...check(`${where}.${key}`, element(checker.getTypeOfSymbolAtLocation(prop, decl!)), arg.block));
      }
    }
    return out;
  };
  return { types, check };
}

describe('bindings against the provider schema fixture', () => {
  it('names the provider commit it was transcribed at', () => {
    assert.match(fixture.commit, /^[0-9a-f]{40}$/);
    for (const entry of [
      fixture.provider,
      ...Object.values(fixture.resources),
      ...Object.values(fixture.data_sources),
    ]) {
      assert.match(
        entry.file,
        /^huaweicloud\/(provider\.go|services\/swr\/(resource|data_source)_huaweicloud_swr_[a-z_]+\.go)$/,
      );
    }
  });

  it('binds exactly the resources and data sources of the fixture', () => {
    assert.deepEqual(RESOURCES.map((b) => b.tfResourceType).sort(), Object.keys(fixture.resources).sort());
    assert.deepEqual(DATA_SOURCES.map((b) => b.tfResourceType).sort(), Object.keys(fixture.data_sources).sort());
  });

  it("matches every argument's name, type, required flag and nested block", () => {
    const out = differences(
      'provider',
      HuaweicloudProvider.schema,
      fixture.provider.attributes,
      fixture.provider.blocks,
      ['alias'],
    );
    for (const b of RESOURCES) {
      const entry = fixture.resources[b.tfResourceType]!;
      out.push(...differences(b.tfResourceType, b.schema, entry.attributes, entry.blocks));
    }
    for (const b of DATA_SOURCES) {
      const entry = fixture.data_sources[b.tfResourceType]!;
      out.push(...differences(`data.${b.tfResourceType}`, b.schema, entry.attributes, entry.blocks));
    }
    assert.deepEqual(out, []);
  });

  it('reports a changed type, a new argument, a flipped required flag and a removed block', () => {
    const changed = structuredClone(fixture.resources['huaweicloud_swr_repository_sharing']!);
    changed.attributes['deadline'] = { type: 'number', required: true };
    changed.attributes['new_arg'] = { type: 'string', optional: true };
    changed.attributes['description'] = { type: 'string', required: true };
    delete changed.blocks['timeouts'];
    assert.deepEqual(differences('x', hw.SwrRepositorySharing.schema, changed.attributes, changed.blocks), [
      'x: argument "new_arg" is not bound',
      'x: "timeouts" is bound but not in the provider schema',
      'x: "deadline" has type number, bound as string',
      'x: "description" required is true, bound as false',
    ]);
  });

  it('exposes a getter for every computed attribute', () => {
    const out: string[] = [];
    for (const [b, entries] of [
      ...RESOURCES.map((r) => [r, fixture.resources] as const),
      ...DATA_SOURCES.map((d) => [d, fixture.data_sources] as const),
    ]) {
      const entry = entries[b.tfResourceType]!;
      for (const [name, a] of Object.entries(entry.attributes)) {
        if (a.computed && !hasGetter(b.prototype, camel(name))) out.push(`${b.name}.${camel(name)} (${name})`);
      }
    }
    assert.deepEqual(out, []);
  });

  it('marks required arguments required and optional ones optional in the TypeScript config interfaces', () => {
    const { types, check } = interfaceChecker();
    const out: string[] = [];
    const interfaces: [string, BlockSchema][] = [
      ['HuaweicloudProviderConfig', HuaweicloudProvider.schema],
      ...[...RESOURCES, ...DATA_SOURCES].map((b) => [`${b.name}Config`, b.schema] as [string, BlockSchema]),
    ];
    for (const [name, schema] of interfaces) {
      const type = types.get(name);
      if (!type) out.push(`${name}: interface not found`);
      else out.push(...check(name, type, schema));
    }
    assert.deepEqual(out, []);
  });
});
