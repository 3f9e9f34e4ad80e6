import { access, appendFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { JobConfig } from '../job/job-config.js';
import { parsePlatforms } from '../oci/platform.js';
import { parseShard } from '../plan/shard.js';

/** Flags shared by `sync` and `plan` (DESIGN §3). */
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
  timeout?: number;
  stallTimeout?: number;
  rate?: number;
  bandwidth?: number;
}

/** image-migrator's defaults: `./auth.json` and `./images.json` beside where it runs. */
const DEFAULT_AUTH = './auth.json';
const DEFAULT_IMAGES = './images.json';

/** Flags → job configuration; also checks that the log file can be written, before anything is copied. */
export async function jobConfigFromFlags(flags: SyncFlags, env: NodeJS.ProcessEnv = process.env): Promise<JobConfig> {
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  const platforms = flags.platform ? parsePlatforms(flags.platform) : undefined;
  const auth = flags.auth ?? ((await exists(DEFAULT_AUTH)) ? DEFAULT_AUTH : undefined);
  if (flags.log) {
    try {
      await appendFile(flags.log, '');
    } catch (error) {
      throw new ConfigError(`cannot write the log file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: flags.log, code: 'ERR_CONFIG_READ' });
    }
  }
  return {
    images: [flags.images ?? DEFAULT_IMAGES],
    ...(auth ? { auth } : {}),
    ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    workers: flags.workers,
    retries: flags.retries,
    ...(platforms ? { platforms } : {}),
    ...(flags.lock ? { lockFile: flags.lock } : {}),
    ...(flags.withReferrers ? { withReferrers: true } : {}),
    ...(flags.verifyDestination ? { verifyDestination: true } : {}),
    ...(shard ? { shard } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.stallTimeout !== undefined ? { stallTimeoutMs: flags.stallTimeout } : {}),
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
