/**
 * The only module that loads a CDK framework: CDK for Terraform (`cdktf`, archived by HashiCorp on 2025-12-10) or its
 * community continuation CDK Terrain (`cdktn`), which keeps cdktf's API. Every construct takes its base classes and
 * helpers from here, so the same source works in either kind of app; the framework's classes must be the ones the
 * app's `App` and `TerraformStack` come from.
 *
 * Which one: `CDKTF_SWR_FRAMEWORK=cdktf|cdktn` if set, else the one installed, `cdktf` first when both are (an app
 * moving to CDK Terrain with cdktf still installed sets the variable or removes cdktf). Both resolve from this
 * package's location, i.e. the app's node_modules. Types are cdktf's; cdktn 0.24 declares the same API.
 */
import { createRequire } from 'node:module';
import type * as Cdktf from 'cdktf';

/** The framework packages this library runs on. */
export type FrameworkName = 'cdktf' | 'cdktn';

const FRAMEWORKS: readonly FrameworkName[] = ['cdktf', 'cdktn'];

function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

function select(): FrameworkName {
  const wanted = process.env.CDKTF_SWR_FRAMEWORK;
  if (wanted !== undefined && wanted !== '') {
    if (!(FRAMEWORKS as readonly string[]).includes(wanted)) {
      throw new Error(`CDKTF_SWR_FRAMEWORK "${wanted}" must be 'cdktf' or 'cdktn'`);
    }
    return wanted as FrameworkName;
  }
  const found = FRAMEWORKS.find(installed);
  if (!found) throw new Error("cdktf-swr needs a CDK framework: install 'cdktf' (0.21) or 'cdktn' (CDK Terrain, 0.24)");
  return found;
}

/** The framework in use, fixed when this module loads. */
export const FRAMEWORK: FrameworkName = select();

// Both packages are CommonJS (jsii): the namespace's default export is module.exports, with every class on it.
const loaded = (await import(FRAMEWORK)) as { default?: typeof Cdktf } & typeof Cdktf;
const fw: typeof Cdktf = loaded.default ?? loaded;

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

export type {
  IResolvable,
  ISynthesisSession,
  TerraformMetaArguments,
  TerraformProviderGeneratorMetadata,
} from 'cdktf';
export { Construct } from 'constructs';
export type { IConstruct } from 'constructs';
