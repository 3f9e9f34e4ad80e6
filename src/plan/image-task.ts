import type { Platform } from '../oci/platform.js';
import type { Reference } from '../oci/reference.js';

/** Where a task came from, for messages and the report. */
export interface RuleOrigin {
  readonly file: string;
  readonly key: string;
  readonly id?: string;
}

/** One image to mirror: a source tag or digest and one destination. */
export interface ImageTask {
  readonly rule: RuleOrigin;
  readonly source: Reference;
  readonly destination: Reference;
  readonly platforms?: readonly Platform[];
  /** Copy what refers to the image too (signatures, attestations, SBOMs). */
  readonly referrers?: boolean;
}

/** A rule that produced no tasks because its source could not be resolved (image-migrator: "tasks generate failed"). */
export interface GenerateFailure {
  readonly rule: RuleOrigin;
  readonly source: string;
  readonly error: { readonly code: string; readonly message: string };
}

export interface ExpandedJob {
  readonly tasks: readonly ImageTask[];
  readonly failures: readonly GenerateFailure[];
  /** Rules that selected nothing (a filter matched no tag): not failures, but worth saying. */
  readonly warnings: readonly string[];
}
