import type { Platform } from '../oci/platform.js';
import type { Shard } from '../plan/shard.js';

/**
 * Everything a batch job needs, independent of the frontend (CLI flags, Action inputs). Plain data: the files are
 * read by `openJob`, which validates all of them before any request is sent.
 */
export interface JobConfig {
  /** Images files: image-migrator / image-syncer images.json or mirror specs, JSON or YAML; several are merged. */
  readonly images: readonly string[];
  /**
   * image-syncer's legacy combined file (`--config`): `{ auth: {...}, images: {...} }`, read as an auth.json and an
   * images file of its own.
   */
  readonly legacyConfig?: string;
  /**
   * All-or-nothing validation: any invalid rule or auth entry fails the job before anything is copied. Without it,
   * images files and auth files are read as image-syncer and image-migrator read them: an invalid rule is skipped
   * and counted as a generate failure, unknown auth fields are warnings (docs/migrating.md). @default false
   */
  readonly strict?: boolean;
  /** auth.json (image-migrator format). */
  readonly auth?: string;
  /** How messages name `auth` (the Action: `input "auth"` for an inline value it wrote to a temporary file). @default its path */
  readonly authLabel?: string;
  /** Default destination registry / namespace for empty destinations (rule 8). */
  readonly registry?: string;
  readonly namespace?: string;
  /** Images copied at once. @default 7 */
  readonly workers?: number;
  /** Retries of a failed request or transfer. @default 3 */
  readonly retries?: number;
  /** Platform filter where a rule sets none. */
  readonly platforms?: readonly Platform[];
  /** Also copy what refers to each image (signatures, attestations, SBOMs) where a rule does not say. @default false */
  readonly withReferrers?: boolean;
  /** Lock file to read, and to write after a sync. */
  readonly lockFile?: string;
  readonly shard?: Shard;
  /**
   * HEAD the destination of every tag even when the lock file records it as holding the source digest. Without it a
   * lock entry stands in for the destination (one request per unchanged tag); use it when tags may change at the
   * destination behind the tool's back. @default false
   */
  readonly verifyDestination?: boolean;
  /** Requests per second to each registry host; a mirror spec's `registries` entry overrides it. @default unlimited */
  readonly rate?: number;
  /** Bytes per second of blob transfers to and from each registry host; overridable likewise. @default unlimited */
  readonly bandwidth?: number;
  /** Bound on the whole run; when it passes, requests under way are aborted and unfinished images fail. */
  readonly timeoutMs?: number;
  /** How the user set `timeoutMs`, named when the limit passes (`timeout input` in the Action). @default '--timeout' */
  readonly timeoutSetBy?: string;
  /**
   * Cancels the run (the CLI aborts it on SIGINT / SIGTERM): no new image or blob starts, transfers under way are cut
   * and their temporary files removed; images that completed are reported and kept in the lock.
   */
  readonly signal?: AbortSignal;
  /** A request that receives nothing (headers or body bytes) for this long fails and is retried. @default 60 s */
  readonly stallTimeoutMs?: number;
  /**
   * Offer HTTP/2 to TLS registries for tag lists, HEADs and manifests (blobs always go over HTTP/1.1); `false` speaks
   * HTTP/1.1 only (`--no-http2`). @default true
   */
  readonly http2?: boolean;
  /**
   * What the job is opened for: each image's first check request (a manifest HEAD) is then sent as soon as the
   * image is known, while other tag lists are still being read, and the check takes its answer. Leave it out when
   * the job is neither synced nor planned right after opening.
   */
  readonly checkAhead?: 'sync' | 'plan';
  /** Environment for `${VAR}` expansion and DEFAULT_REGISTRY / DEFAULT_NAMESPACE. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}
