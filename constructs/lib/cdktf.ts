/**
 * The only module that imports cdktf, constructs and the prebuilt Kubernetes provider. Keeping every such import
 * here means a move to CDK Terrain (`cdktn`, the community continuation of the archived cdktf) is a rename in this
 * file alone.
 *
 * The Kubernetes classes are imported from their own modules rather than the package root: the root loads all
 * ~110 resources (about 2 s) where a synth needs three.
 */
export {
  Annotations,
  Aspects,
  DataResource,
  TerraformDataSource,
  Fn,
  Lazy,
  TerraformProvider,
  TerraformResource,
  TerraformStack,
  Token,
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
} from 'cdktf';
export type {
  IResolvable,
  ISynthesisSession,
  TerraformMetaArguments,
  TerraformProviderGeneratorMetadata,
} from 'cdktf';
export { Construct } from 'constructs';
export type { IConstruct } from 'constructs';

export { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
export { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1/index.js';
export { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1/index.js';
export type { DeploymentV1SpecTemplate } from '@cdktf/provider-kubernetes/lib/deployment-v1/index.js';
export { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1/index.js';
