import { loadAuthJson } from '../config/auth-json.js';
import { printable } from '../results/escape.js';
import { chainCredentialSources, type CredentialSource } from '../config/credentials.js';
import { loadDefaultDockerConfig, loadDockerConfig } from '../config/docker-config.js';

export interface CredentialFlags {
  /** image-migrator / image-syncer auth.json */
  readonly auth?: string;
  /** skopeo-style authfiles (docker config format) */
  readonly srcAuthfile?: string;
  readonly destAuthfile?: string;
  /** Read auth.json strictly (unknown fields are errors) instead of as image-syncer / image-migrator read it. */
  readonly strict?: boolean;
}

/**
 * Credentials for each side of a copy, most specific first: the side's authfile, then auth.json, then the user's
 * docker config (with its credential helpers). All files are read before anything is copied, so a bad file is an
 * input error (exit 2).
 */
export async function loadCopyCredentials(
  flags: CredentialFlags,
): Promise<{ source: CredentialSource; destination: CredentialSource }> {
  const [authJson, srcFile, destFile, dockerConfig] = await Promise.all([
    flags.auth ? loadAuthJson(flags.auth, process.env, { strict: flags.strict ?? false }) : undefined,
    flags.srcAuthfile ? loadDockerConfig(flags.srcAuthfile) : undefined,
    flags.destAuthfile ? loadDockerConfig(flags.destAuthfile) : undefined,
    loadDefaultDockerConfig(),
  ]);
  for (const w of authJson?.warnings ?? []) process.stderr.write(`swr-sync: warning: ${printable(w)}\n`);
  const chain = (...sources: Array<CredentialSource | undefined>) =>
    chainCredentialSources(...sources.filter((s): s is CredentialSource => s !== undefined));
  return {
    source: chain(srcFile, authJson, dockerConfig),
    destination: chain(destFile, authJson, dockerConfig),
  };
}
