import { access, appendFile } from 'node:fs/promises';
import { chainCredentialSources, loadAuthJson, loadDefaultDockerConfig, type CredentialSource } from '../config/credentials.js';
import { loadImagesFile } from '../config/images-file.js';
import type { MirrorRule } from '../config/mirror-rule.js';
import { ConfigError } from '../errors.js';
import { parsePlatforms, type Platform } from '../oci/platform.js';
import { parseReference } from '../oci/reference.js';
import { inShard, parseShard, type Shard } from '../plan/shard.js';
import { readLockFile, type LockEntry, type LockFile } from '../results/lock-file.js';

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
  json?: boolean;
}

export interface SyncInputs {
  /** The rules of this shard. */
  readonly rules: readonly MirrorRule[];
  readonly credentials: CredentialSource;
  readonly platforms?: readonly Platform[];
  readonly shard?: Shard;
  readonly lock?: LockFile;
  readonly lockFile?: string;
}

/** image-migrator's defaults: `./auth.json` and `./images.json` beside where it runs. */
const DEFAULT_AUTH = './auth.json';
const DEFAULT_IMAGES = './images.json';

/**
 * Reads and validates every input before anything touches a registry, so invalid input is exit 2 with nothing
 * copied: flags, auth.json, the images file or mirror spec, the lock file, and that the log file can be written.
 */
export async function loadSyncInputs(flags: SyncFlags, env: NodeJS.ProcessEnv = process.env): Promise<SyncInputs> {
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  const platforms = flags.platform ? parsePlatforms(flags.platform) : undefined;
  const authFile = flags.auth ?? ((await exists(DEFAULT_AUTH)) ? DEFAULT_AUTH : undefined);
  const [authJson, dockerConfig, rules, lock] = await Promise.all([
    authFile ? loadAuthJson(authFile, env) : undefined,
    loadDefaultDockerConfig(env),
    loadImagesFile(flags.images ?? DEFAULT_IMAGES, {
      ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      env,
    }),
    flags.lock ? readLockFile(flags.lock) : undefined,
  ]);
  if (flags.log) {
    try {
      await appendFile(flags.log, '');
    } catch (error) {
      throw new ConfigError(`cannot write the log file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: flags.log, code: 'ERR_CONFIG_READ' });
    }
  }
  const credentials = chainCredentialSources(...[authJson, dockerConfig].filter((s): s is NonNullable<typeof s> => s !== undefined));
  return {
    rules: rules.filter((r) => inShard(`${r.source.registry}/${r.source.repository}`, shard)),
    credentials,
    ...(platforms ? { platforms } : {}),
    ...(shard ? { shard } : {}),
    ...(lock ? { lock } : {}),
    ...(flags.lock ? { lockFile: flags.lock } : {}),
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

/** The source repository (`registry/path`) of a lock entry. */
export function lockEntryRepository(entry: LockEntry): string | undefined {
  try {
    return parseReference(entry.source).name;
  } catch {
    return undefined;
  }
}

/**
 * Whether a lock entry belongs to the part of the job this run covers: its source repository is in this shard and
 * was resolved (a rule that could not list its tags keeps its entries).
 */
export function lockScope(shard: Shard | undefined, unresolvedSources: ReadonlySet<string>): (entry: LockEntry) => boolean {
  return (entry) => {
    const repository = lockEntryRepository(entry);
    return repository !== undefined && inShard(repository, shard) && !unresolvedSources.has(repository);
  };
}
