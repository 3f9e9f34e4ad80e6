import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseDocument, readConfigFile } from './parse-text.js';
import { describeIssue, type Issue } from './zod-issues.js';
import { helperCredential } from './credential-helper.js';
import {
  matchingScopes,
  normalizeRegistryHost,
  parseScope,
  type Credential,
  type CredentialSource,
  type RegistryAccess,
  type Scope,
} from './credentials.js';

/**
 * Docker config files (`~/.docker/config.json`, skopeo/podman authfiles): `auths` entries, and the credential
 * helpers `credHelpers` and `credsStore` name.
 */

interface DockerAuthEntry extends Scope {
  readonly key: string;
  readonly credential: Credential;
}

interface DockerConfig {
  /** Only entries that hold a credential; placeholders (`{}`) written beside a credential store are dropped. */
  readonly auths: readonly DockerAuthEntry[];
  /** Normalized host → helper name. */
  readonly credHelpers: ReadonlyMap<string, string>;
  readonly credsStore?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Docker config (also the skopeo / podman authfile format)

const IDENTITY_TOKEN_USER = '<token>';
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Loose: docker config files carry many other settings (proxies, psFormat, currentContext, ...).
const DockerAuthValue = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});
const DockerConfigFile = z.looseObject({
  auths: z.record(z.string(), DockerAuthValue.nullable()).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

export class DockerConfigSource implements CredentialSource {
  constructor(
    readonly file: string,
    private readonly config: DockerConfig,
  ) {}

  async lookup(registry: string, repository: string): Promise<RegistryAccess | undefined> {
    const host = normalizeRegistryHost(registry);
    // Docker's order: a per-host helper is authoritative; the general store only covers hosts the file leaves out.
    const helper = this.config.credHelpers.get(host);
    if (helper !== undefined) return this.fromHelper(helper, host);
    const entry = matchingScopes(this.config.auths, host, repository)[0];
    if (entry !== undefined) {
      return { credential: entry.credential, insecure: false, source: `docker config ${this.file} key "${entry.key}"` };
    }
    if (this.config.credsStore !== undefined) return this.fromHelper(this.config.credsStore, host);
    return undefined;
  }

  private async fromHelper(helper: string, host: string): Promise<RegistryAccess | undefined> {
    const credential = await helperCredential(helper, host);
    if (credential === undefined) return undefined;
    return { credential, insecure: false, source: `docker config ${this.file} (docker-credential-${helper})` };
  }
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

/** An authfile the user named: a missing file is an error. */
export async function loadDockerConfig(file: string): Promise<DockerConfigSource> {
  return parseDockerConfig(await readConfigFile(file), file);
}

/** The docker config at its default place: a missing file means no credentials. */
export async function loadDefaultDockerConfig(env: NodeJS.ProcessEnv = process.env): Promise<DockerConfigSource> {
  const file = defaultDockerConfigPath(env);
  const text = await readConfigFile(file, { optional: true });
  return text === undefined
    ? new DockerConfigSource(file, { auths: [], credHelpers: new Map() })
    : parseDockerConfig(text, file);
}

/** A Docker config (`~/.docker/config.json`, skopeo/podman authfile) as a credential source: `auths` entries and credential helpers. */
export function parseDockerConfig(text: string, file: string): DockerConfigSource {
  const document = parseDocument(text, file);
  const parsed = DockerConfigFile.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as Issue;
    const [top, host] = issue.path.map(String);
    const key = top === 'auths' || top === 'credHelpers' ? (host === undefined ? top : `${top}["${host}"]`) : top;
    const inner = { ...issue, path: issue.path.slice(key === top ? 1 : 2) } as Issue;
    throw new ConfigError(describeIssue(inner).join('; '), key === undefined ? { file } : { file, key });
  }

  const auths: DockerAuthEntry[] = [];
  for (const [key, value] of Object.entries(parsed.data.auths ?? {})) {
    const scope = parseScope(key);
    const credential = value ? dockerCredential(value, file, key) : undefined;
    // Keys that are no registry at all are left alone, as docker does: the file is shared with other tools.
    if (scope !== undefined && credential !== undefined) auths.push({ key, ...scope, credential });
  }

  const credHelpers = new Map<string, string>();
  for (const [key, helper] of Object.entries(parsed.data.credHelpers ?? {})) {
    checkHelperName(helper, file, `credHelpers["${key}"]`);
    credHelpers.set(normalizeRegistryHost(key), helper);
  }
  const credsStore = parsed.data.credsStore || undefined;
  if (credsStore !== undefined) checkHelperName(credsStore, file, 'credsStore');

  return new DockerConfigSource(file, { auths, credHelpers, ...(credsStore !== undefined ? { credsStore } : {}) });
}

function dockerCredential(value: z.infer<typeof DockerAuthValue>, file: string, key: string): Credential | undefined {
  if (value.identitytoken) return { username: IDENTITY_TOKEN_USER, password: value.identitytoken };
  if (value.auth) {
    const encoded = value.auth.trim();
    const decoded = BASE64.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new ConfigError('"auth" must be base64 of "username:password"', { file, key: `auths["${key}"]` });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (value.username || value.password) return { username: value.username ?? '', password: value.password ?? '' };
  return undefined;
}

function checkHelperName(helper: string, file: string, key: string): void {
  // The name becomes part of a program name looked up on PATH: no path separators, no option-like names.
  if (!HELPER_NAME.test(helper)) {
    throw new ConfigError(
      'a credential helper name is letters, digits, ".", "_" and "-" (the program is docker-credential-<name>)',
      {
        file,
        key,
      },
    );
  }
}
