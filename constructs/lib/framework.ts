/**
 * The only module that loads a CDK framework: CDK for Terraform (`cdktf`, archived by HashiCorp on 2025-12-10) or its
 * community continuation CDK Terrain (`cdktn`), which keeps cdktf's API. Every construct takes its base classes and
 * helpers from here, so the same source works in either kind of app; the framework's classes must be the ones the
 * app's `App` and `TerraformStack` come from.
 *
 * Which one: `CDKTF_SWR_FRAMEWORK=cdktf|cdktn` if set; else the one the app has already loaded (an app imports its
 * framework before or beside this library, and ES modules evaluate imports in order); else the one installed,
 * `cdktf` first when both are. Both resolve from this package's location, i.e. the app's node_modules. A construct
 * created in a stack of the other framework fails at once with a message naming the variable. Types are cdktf's;
 * cdktn 0.24 declares the same API.
 */
import { createRequire } from 'node:module';
import type * as Cdktf from 'cdktf';
import type { IConstruct } from 'constructs';

/** The framework packages this library runs on. */
export type FrameworkName = 'cdktf' | 'cdktn';

const FRAMEWORKS: readonly FrameworkName[] = ['cdktf', 'cdktn'];

const require = createRequire(import.meta.url);

function resolved(name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}

/** Both frameworks are CommonJS: an app that imported one has it in the module cache. */
function loaded(name: string): boolean {
  const path = resolved(name);
  return path !== undefined && require.cache[path] !== undefined;
}

function select(): FrameworkName {
  const wanted = process.env.CDKTF_SWR_FRAMEWORK;
  if (wanted !== undefined && wanted !== '') {
    if (!(FRAMEWORKS as readonly string[]).includes(wanted)) {
      throw new Error(`CDKTF_SWR_FRAMEWORK "${wanted}" must be 'cdktf' or 'cdktn'`);
    }
    return wanted as FrameworkName;
  }
  const inUse = FRAMEWORKS.filter(loaded);
  if (inUse.length === 1) return inUse[0]!;
  const found = FRAMEWORKS.find((name) => resolved(name) !== undefined);
  if (!found) throw new Error("cdktf-swr needs a CDK framework: install 'cdktf' (0.21) or 'cdktn' (CDK Terrain, 0.24)");
  return found;
}

/** The framework in use, fixed when this module loads. */
export const FRAMEWORK: FrameworkName = select();

// Both packages are CommonJS (jsii): the namespace's default export is module.exports, with every class on it.
const module = (await import(FRAMEWORK)) as { default?: typeof Cdktf } & typeof Cdktf;
const fw: typeof Cdktf = module.default ?? module;

export const Annotations: typeof Cdktf.Annotations = fw.Annotations;
export type Annotations = Cdktf.Annotations;
export const Aspects: typeof Cdktf.Aspects = fw.Aspects;
export type Aspects = Cdktf.Aspects;
export const DataResource: typeof Cdktf.DataResource = fw.DataResource;
export type DataResource = Cdktf.DataResource;
export const TerraformDataSource: typeof Cdktf.TerraformDataSource = fw.TerraformDataSource;
export type TerraformDataSource = Cdktf.TerraformDataSource;
export const Fn: typeof Cdktf.Fn = fw.Fn;
export const Lazy: typeof Cdktf.Lazy = fw.Lazy;
export const TerraformProvider: typeof Cdktf.TerraformProvider = fw.TerraformProvider;
export type TerraformProvider = Cdktf.TerraformProvider;
export const TerraformResource: typeof Cdktf.TerraformResource = fw.TerraformResource;
export type TerraformResource = Cdktf.TerraformResource;
export const TerraformStack: typeof Cdktf.TerraformStack = fw.TerraformStack;
export type TerraformStack = Cdktf.TerraformStack;
export const Token: typeof Cdktf.Token = fw.Token;
export const Tokenization: typeof Cdktf.Tokenization = fw.Tokenization;
export const booleanToHclTerraform: typeof Cdktf.booleanToHclTerraform = fw.booleanToHclTerraform;
export const booleanToTerraform: typeof Cdktf.booleanToTerraform = fw.booleanToTerraform;
export const canInspect: typeof Cdktf.canInspect = fw.canInspect;
export const hashMapper: typeof Cdktf.hashMapper = fw.hashMapper;
export const hashMapperHcl: typeof Cdktf.hashMapperHcl = fw.hashMapperHcl;
export const listMapper: typeof Cdktf.listMapper = fw.listMapper;
export const listMapperHcl: typeof Cdktf.listMapperHcl = fw.listMapperHcl;
export const numberToHclTerraform: typeof Cdktf.numberToHclTerraform = fw.numberToHclTerraform;
export const numberToTerraform: typeof Cdktf.numberToTerraform = fw.numberToTerraform;
export const stringToHclTerraform: typeof Cdktf.stringToHclTerraform = fw.stringToHclTerraform;
export const stringToTerraform: typeof Cdktf.stringToTerraform = fw.stringToTerraform;

/** A construct of this library created in a stack of the framework it did not load. */
export class FrameworkMismatchError extends Error {
  /** Stable code for scripts and tests. */
  readonly code = 'ERR_FRAMEWORK_MISMATCH';

  constructor(
    /** The construct's path. */
    readonly path: string,
    /** The framework the library loaded. */
    readonly framework: FrameworkName,
  ) {
    const other = framework === 'cdktf' ? 'cdktn' : 'cdktf';
    super(
      `${path}: cdktf-swr runs on ${framework}, but this stack is a ${other} TerraformStack; ` +
        `set CDKTF_SWR_FRAMEWORK=${other} (both frameworks are installed)`,
    );
    this.name = 'FrameworkMismatchError';
  }
}

/**
 * Fails when `scope` is in a stack of the other framework (both installed, the wrong one picked): mixing them
 * otherwise breaks deep inside synth.
 */
export function checkFramework(scope: IConstruct): void {
  const stack = fw.TerraformStack.of(scope);
  if (!(stack instanceof fw.TerraformStack)) throw new FrameworkMismatchError(scope.node.path, FRAMEWORK);
}

export type {
  IResolvable,
  ISynthesisSession,
  TerraformMetaArguments,
  TerraformProviderGeneratorMetadata,
} from 'cdktf';
export { Construct } from 'constructs';
export type { IConstruct } from 'constructs';
