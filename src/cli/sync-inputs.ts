import { access, appendFile } from 'node:fs/promises';
import { ConfigError, SwrSyncError } from '../errors.js';
import type { JobConfig } from '../job/job-config.js';
import { parsePlatforms, platformsFromOsArch } from '../oci/platform.js';
import { parseShard } from '../plan/shard.js';

/** Flags shared by `sync` and `plan` (docs/cli.md). */
export interface SyncFlags {
  auth?: string;
  images?: string;
  registry?: string;
  namespace?: string;
  workers: number;
  retries: number;
  log?: string;
  platform?: string[];
  lock?: string;
  shard?: string;
  dryRun?: boolean;
  withReferrers?: boolean;
  verifyDestination?: boolean;
  json?: boolean;
  /** image-syncer's names: `--proc` (= workers), `--os` / `--arch` (platform filter), `--config`, `--force`. */
  proc?: number;
  os?: string[];
  arch?: string[];
  config?: string;
  force?: boolean;
  strict?: boolean;
  outputSuccessImages?: string;
  outputImagesFormat?: 'yaml' | 'json';
  timeout?: number;
  stallTimeout?: number;
  /** `--no-http2` sets it false. */
  http2?: boolean;
  rate?: number;
  bandwidth?: number;
}

/** image-migrator's defaults: `./auth.json` and `./images.json` beside where it runs. */
const DEFAULT_AUTH = './auth.json';
const DEFAULT_IMAGES = './images.json';

/** Flags → job configuration; also checks that the log file can be written, before anything is copied. */
export async function jobConfigFromFlags(flags: SyncFlags, env: NodeJS.ProcessEnv = process.env): Promise<JobConfig> {
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  if (flags.platform && (flags.os || flags.arch)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      '--platform and --os/--arch both filter platforms: give one or the other (--os linux --arch arm64 is --platform linux/arm64)',
    );
  }
  const platforms = flags.platform ? parsePlatforms(flags.platform) : platformsFromOsArch(flags.os, flags.arch);
  if (flags.config !== undefined && (flags.images !== undefined || flags.auth !== undefined)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      '--config is the auth and images files in one: give either --config or --auth/--images',
    );
  }
  const auth =
    flags.config !== undefined ? undefined : (flags.auth ?? ((await exists(DEFAULT_AUTH)) ? DEFAULT_AUTH : undefined));
  if (flags.log) {
    try {
      await appendFile(flags.log, '');
    } catch (error) {
      throw new ConfigError(`cannot write the log file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
        file: flags.log,
        code: 'ERR_CONFIG_READ',
      });
    }
  }
  return {
    images: flags.config !== undefined ? [] : [flags.images ?? DEFAULT_IMAGES],
    ...(flags.config !== undefined ? { legacyConfig: flags.config } : {}),
    ...(flags.strict ? { strict: true } : {}),
    ...(auth ? { auth } : {}),
    ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    workers: flags.proc ?? flags.workers,
    retries: flags.retries,
    ...(platforms ? { platforms } : {}),
    ...(flags.lock ? { lockFile: flags.lock } : {}),
    ...(flags.withReferrers ? { withReferrers: true } : {}),
    ...(flags.verifyDestination || flags.force ? { verifyDestination: true } : {}),
    ...(shard ? { shard } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.stallTimeout !== undefined ? { stallTimeoutMs: flags.stallTimeout } : {}),
    ...(flags.http2 === false ? { http2: false } : {}),
    ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
    ...(flags.bandwidth !== undefined ? { bandwidth: flags.bandwidth } : {}),
    env,
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
