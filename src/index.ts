/** Public library entry of the swr-sync engine (`cdktf-swr/engine`). */
export { RegistryClient, Transport } from './client/registry-client.js';
export type { Access, FetchedManifest, ManifestHead, RegistryClientOptions, RequestEvent, TransportOptions, UploadMode } from './client/registry-client.js';
export type { RetryPolicy } from './client/retry.js';
export type { ImageStore } from './client/image-store.js';
export { applyArchiveOutcomes, OciLayoutStore } from './client/oci-layout.js';
export type { ArchiveOutcome, OciLayoutStoreOptions } from './client/oci-layout.js';
export { StoreRouter } from './client/store-router.js';
export { RegistryLimiter } from './client/rate-limit.js';
export type { HostLimits, PacingNotice, RegistryLimiterOptions } from './client/rate-limit.js';
export { CopyEngine } from './engine/copy-engine.js';
export type { CopyEngineOptions, CopyOptions } from './engine/copy-engine.js';
export { ReferrerCopier, cosignTags, referrersTag } from './engine/referrers.js';
export type { ReferrerCopierOptions } from './engine/referrers.js';
export {
  chainCredentialSources,
  loadAuthJson,
  loadDefaultDockerConfig,
  loadDockerConfig,
  parseAuthJson,
  parseDockerConfig,
} from './config/credentials.js';
export type { Credential, CredentialSource, RegistryAccess } from './config/credentials.js';
export { ConfigError, ContentMismatchError, InvalidReferenceError, SwrSyncError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { digestOf } from './oci/digest.js';
export { MediaType, parseManifest } from './oci/manifest.js';
export type { Descriptor, ImageIndex, ImageManifest, Manifest } from './oci/manifest.js';
export { formatPlatform, parsePlatform, parsePlatforms } from './oci/platform.js';
export type { Platform } from './oci/platform.js';
export { parseReference, Reference } from './oci/reference.js';
export type { ImageResult, ImageStatus, ReferrerCounts } from './results/image-result.js';
export { swrLoginKey, swrLoginUser } from './swr/login-key.js';
export { openJob, planJob, syncJob } from './job/job.js';
export type { Job, SyncHooks, SyncOutcome } from './job/job.js';
export type { JobConfig } from './job/job-config.js';
export { loadImagesFile, parseImagesFile } from './config/images-file.js';
export type { MirrorRule, TagSelection } from './config/mirror-rule.js';
export { parseShard } from './plan/shard.js';
export type { Shard } from './plan/shard.js';
export type { ImageTask, GenerateFailure } from './plan/image-task.js';
export type { PlanEntry, PlanStatus, RemovedEntry } from './plan/planner.js';
export { formatPlanMarkdown, planCounts } from './results/plan-report.js';
export type { PlanReport, PlanCounts } from './results/plan-report.js';
export { readLockFile, serializeLockFile, writeLockFile } from './results/lock-file.js';
export type { LockEntry, LockFile } from './results/lock-file.js';
export { finishingLine, summaryTable } from './results/run-summary.js';
export type { RunSummary } from './results/run-summary.js';
