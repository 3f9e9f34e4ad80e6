/**
 * cdktf-swr: Huawei Cloud SWR as code. Constructs for organizations, repositories, pull secrets, mirrored images
 * and CCE/CCI workloads, plus typed bindings for the huaweicloud provider's SWR resources under
 * `huaweicloud`.
 */
export * as huaweicloud from './huaweicloud/index.js';
export { HuaweicloudProvider } from './huaweicloud/provider.js';
export type { HuaweicloudProviderConfig } from './huaweicloud/provider.js';
export type { SwrRepositoryCategory } from './huaweicloud/swr-repository.js';

export { SwrOrganization } from './swr-organization.js';
export type { SwrOrganizationProps } from './swr-organization.js';
export type { SwrPermission, SwrPermissionLevel } from './swr-permissions.js';
export { SwrRepository } from './swr-repository.js';
export type {
  SwrRepositoryProps,
  SwrRepositorySharing,
  SwrRetention,
  SwrRetentionTagSelector,
  SwrRepositoryTrigger,
  SwrTriggerCondition,
  SwrTriggerTarget,
  SwrRepositoryAutoSync,
} from './swr-repository.js';
export { swrLoginServer } from './swr-login-server.js';

export { ImagePullSecret } from './image-pull-secret.js';
export type { ImagePullSecretProps, SwrImagePullSecretProps, SwrLogin } from './image-pull-secret.js';
export type { RegistryCredential } from './docker-config.js';

export { MirrorSet } from './mirror-set.js';
export type { MirrorSetMember, MirrorSetProps, RegistryLimit } from './mirror-set.js';
export { MirroredImage } from './mirrored-image.js';
export type { MirroredImageProps } from './mirrored-image.js';
export type { CopyOnDeployOptions } from './copy-on-deploy.js';
export { LOCK_FILE, MIRROR_SPEC_FILE, readLockFile, serializeMirrorSpec } from './mirror-spec.js';
export type { LockEntry, LockFile, MirrorSpec, MirrorSpecImage } from './mirror-spec.js';

export { Workload } from './workload/workload.js';
export type {
  ContainerPort,
  ContainerResources,
  ImageReplacementProps,
  WorkloadContainer,
  WorkloadProps,
} from './workload/workload.js';
export type { StaticEip, WorkloadEip } from './workload/eip.js';
export type { BurstingMode, CciVersion } from './workload/bursting.js';
export type { ImageReplacementRule } from './workload/image-replacement.js';

export { ConstructValidationError } from './lib/validation.js';

/**
 * The `kubernetes` provider block, from the same bindings the constructs use (the prebuilt
 * `@cdktf/provider-kubernetes` under cdktf, this library's own under CDK Terrain): declare it from here so the
 * example works unchanged in either kind of app.
 */
export { KubernetesProvider, KUBERNETES_BINDINGS } from './lib/cdktf.js';
export { FRAMEWORK, FrameworkMismatchError } from './lib/framework.js';
export type { FrameworkName } from './lib/framework.js';
