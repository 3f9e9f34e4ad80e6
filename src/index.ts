/**
 * The library entry of the swr-sync engine, `cdktf-swr/engine`: what a program needs to copy images, run a sync or a
 * plan from the same files the CLI reads, parse references, handle errors and read results. Everything else in
 * `src/` is internal and may change in any release; `test/unit/api-surface.test.ts` pins this list.
 *
 * @packageDocumentation
 */

// ---- a whole run, as `swr-sync sync` / `swr-sync plan` do it
export { openJob, planJob, syncJob } from './job/job.js';
export type { Job, SyncHooks, SyncOutcome } from './job/job.js';
export type { JobConfig } from './job/job-config.js';
export { parseShard } from './plan/shard.js';
export type { Shard } from './plan/shard.js';
export type { GenerateFailure, ImageTask, RuleOrigin } from './plan/image-task.js';
export type { PlanEntry, PlanStatus, RemovedEntry } from './plan/planner.js';
export type { PlanReport } from './results/plan-report.js';
export type { RunSummary } from './results/run-summary.js';

// ---- copying images one by one
export { CopyEngine } from './engine/copy-engine.js';
export type { CopyEngineOptions, CopyOptions } from './engine/copy-engine.js';
export { ReferrerCopier } from './engine/referrer-copier.js';
export type { ReferrerCopierOptions } from './engine/referrer-copier.js';
export { RegistryClient, Transport } from './client/registry-client.js';
export type {
  Access,
  BlobBody,
  FetchedManifest,
  ManifestHead,
  RegistryClientOptions,
  RequestEvent,
  TransportOptions,
  UploadMode,
} from './client/registry-client.js';
export type { RetryPolicy } from './client/retry.js';
export { RegistryLimiter } from './client/rate-limit.js';
export type { PacingNotice, RegistryLimiterOptions } from './client/rate-limit.js';
export type { HostLimits } from './config/registry-limits.js';
export { StoreRouter } from './store/store-router.js';
export type { ImageStore } from './store/image-store.js';
export type { ArchiveOutcome } from './store/oci-layout.js';
export { applyArchiveOutcomes } from './results/archive-outcomes.js';

// ---- credentials
export { loadAuthJson, parseAuthJson } from './config/auth-json.js';
export type { AuthJsonOptions } from './config/auth-json.js';
export { loadDefaultDockerConfig, loadDockerConfig, parseDockerConfig } from './config/docker-config.js';
export { chainCredentialSources } from './config/credentials.js';
export type { Credential, CredentialSource, RegistryAccess } from './config/credentials.js';
export { swrLoginKey, swrLoginUser } from './swr/login-key.js';

// ---- references and platforms
export { parseReference, Reference } from './oci/reference.js';
export type { LayoutTransport, ParseReferenceOptions } from './oci/reference.js';
export { parsePlatforms } from './oci/platform.js';
export type { Platform } from './oci/platform.js';
export type { Descriptor } from './oci/manifest.js';

// ---- results and the lock file
export type { BlobCounts, ImageResult, ImageStatus, ReferrerCounts } from './engine/image-result.js';
export { readLockFile } from './plan/lock-file.js';
export type { LockEntry, LockFile } from './plan/lock-file.js';

// ---- errors
export {
  ConfigError,
  ConfigErrors,
  ContentMismatchError,
  InvalidReferenceError,
  isSwrSyncError,
  SwrSyncError,
} from './errors.js';
export type { ErrorCode, SwrSyncErrorOptions } from './errors.js';
