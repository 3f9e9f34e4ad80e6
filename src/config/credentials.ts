import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, SwrSyncError } from '../errors.js';
import { DOCKER_HUB, normalizeRegistry } from '../oci/reference.js';
import { expandVariables, isRecord, parseDocument, parseGoDocument, readConfigFile } from './parse-text.js';

/**
 * Where registry credentials come from: image-migrator / image-syncer `auth.json`, docker config files
 * (`~/.docker/config.json`, skopeo/podman authfiles) and the credential helpers they name.
 *
 * Credentials are matched to the EXACT registry host (port included): a suffix or look-alike host never gets
 * another registry's password. Secrets never appear in messages, in `source`, or on a child process's argv.
 */

// ---------------------------------------------------------------------------------------------------------------
// Data shapes

/** `password` may be an identity token when `username` is `<token>`. */
export interface Credential {
  readonly username: string;
  readonly password: string;
}

export interface RegistryAccess {
  readonly credential?: Credential;
  /** Plain HTTP allowed for this registry. */
  readonly insecure: boolean;
  /** For messages: e.g. 'auth.json key "127.0.0.1:5000/ns"' or 'docker config ~/.docker/config.json' — never the secret. */
  readonly source: string;
}

export interface CredentialSource {
  /** `undefined` when this source knows nothing about the registry (the next source in a chain is asked). */
  lookup(registry: string, repository: string): Promise<RegistryAccess | undefined>;
}

/** A part of one registry that a file key covers: the whole registry (`path` '') or a namespace prefix. */
interface Scope {
  /** Normalized `host[:port]`. */
  readonly registry: string;
  /** Repository path prefix without leading or trailing '/', '' for the whole registry. */
  readonly path: string;
}

/** One auth.json key after validation and environment expansion. */
export interface AuthJsonEntry extends Scope {
  /** The key as written in the file. */
  readonly key: string;
  /** Absent: anonymous access. */
  readonly credential?: Credential;
  /** Absent: not stated by this key (a wider key of the same registry may state it). */
  readonly insecure?: boolean;
}

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
// Hosts and scopes

const URL_SCHEME = /^https?:\/\//i;
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * `https://index.docker.io/v1/` → `docker.io`, `HTTP://Reg.Example:5000/` → `reg.example:5000`. A path after the
 * host (an auth.json `registry/namespace` key) is kept as written.
 */
export function normalizeRegistryHost(s: string): string {
  let rest = s.trim();
  const isUrl = URL_SCHEME.test(rest);
  rest = rest.replace(URL_SCHEME, '');
  // A URL names the API root, so a bare `/v1` or `/v2` there is never a namespace; elsewhere only the
  // slash-terminated form that docker writes is taken for one.
  rest = rest.replace(isUrl ? /\/v[12]\/?$/ : /\/v[12]\/$/, '').replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  if (slash < 0) return normalizeRegistry(rest);
  return normalizeRegistry(rest.slice(0, slash)) + rest.slice(slash);
}

function parseScope(key: string): Scope | undefined {
  const normalized = normalizeRegistryHost(key);
  const slash = normalized.indexOf('/');
  const registry = slash < 0 ? normalized : normalized.slice(0, slash);
  const path = slash < 0 ? '' : normalized.slice(slash + 1);
  if (!HOST.test(registry)) return undefined;
  if (path !== '' && path.split('/').some((segment) => segment === '' || /\s/.test(segment))) return undefined;
  return { registry, path };
}

/** Scopes covering `registry/repository`, narrowest first; a prefix only counts at a '/' boundary. */
function matchingScopes<T extends Scope>(entries: readonly T[], registry: string, repository: string): T[] {
  const host = normalizeRegistryHost(registry);
  const repo = repository.replace(/^\/+|\/+$/g, '');
  return entries
    .filter((e) => e.registry === host && (e.path === '' || repo === e.path || repo.startsWith(`${e.path}/`)))
    .sort((a, b) => b.path.length - a.path.length);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading files (parse-text.ts) and validation messages

type Issue = z.ZodError['issues'][number];

/** A zod issue as a rule, without the offending value (it may be a secret). */
function describeIssue(issue: Issue, allowedFields?: readonly string[]): string {
  const field = issue.path.length > 0 ? `"${issue.path.map(String).join('.')}": ` : '';
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) => `"${k}"`).join(', ');
    const allowed = allowedFields ? ` (allowed: ${allowedFields.join(', ')})` : '';
    return `${field}unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${allowed}`;
  }
  if (issue.code === 'invalid_type') return `${field}must be ${issue.expected === 'object' ? 'an' : 'a'} ${issue.expected}`;
  return `${field}${issue.message}`;
}

// ---------------------------------------------------------------------------------------------------------------
// auth.json

const AUTH_JSON_FIELDS = ['username', 'password', 'insecure'] as const;
const AuthJsonValue = z.strictObject({
  username: z.string().optional(),
  password: z.string().optional(),
  insecure: z.boolean().optional(),
});

export class AuthJsonSource implements CredentialSource {
  constructor(
    readonly file: string,
    readonly entries: readonly AuthJsonEntry[],
    /** What was read leniently (outside `--strict`): unknown fields ignored, keys written twice. */
    readonly warnings: readonly string[] = [],
  ) {}

  async lookup(registry: string, repository: string): Promise<RegistryAccess | undefined> {
    const matches = matchingScopes(this.entries, registry, repository);
    const best = matches[0];
    if (best === undefined) return undefined;
    // `insecure` describes the registry's transport, so a namespace key that leaves it out inherits it from a
    // wider key of the same registry rather than silently switching that namespace to HTTPS.
    const insecure = matches.find((e) => e.insecure !== undefined)?.insecure ?? false;
    const source = `${this.file} key "${best.key}"`;
    return best.credential ? { credential: best.credential, insecure, source } : { insecure, source };
  }
}

/**
 * How an auth.json is read. `strict` (the default here; `swr-sync sync` passes `--strict`): every field is checked.
 * Lenient, as image-syncer and image-migrator read it (Go structs from encoding/json or go-yaml v2): YAML 1.1
 * scalars (`insecure: yes`), a number written for a username or password is its text, unknown fields such as
 * docker's `email` are ignored with a warning.
 */
export interface AuthJsonOptions {
  /** @default true */
  readonly strict?: boolean;
}

export async function loadAuthJson(file: string, env: NodeJS.ProcessEnv = process.env, options: AuthJsonOptions = {}): Promise<AuthJsonSource> {
  return parseAuthJson(await readConfigFile(file), file, env, options);
}

/** `file` names the text in messages (a path, or e.g. 'auth input' for inline text). */
export function parseAuthJson(text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: AuthJsonOptions = {}): AuthJsonSource {
  if (options.strict ?? true) return authJsonFromDocument(parseDocument(text, file), file, env);
  const go = parseGoDocument(text, file);
  return authJsonFromDocument(go.value, file, env, { raw: go.raw, warnings: go.warnings });
}

/**
 * An auth.json already parsed (e.g. the `auth` part of image-syncer's legacy `--config` file). With `lenient`,
 * read as the Go tools read it (AuthJsonOptions); `raw` is the same document with scalars as text (parseGoDocument).
 */
export function authJsonFromDocument(
  document: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  lenient?: { readonly raw?: unknown; readonly warnings?: readonly string[] },
): AuthJsonSource {
  const warnings: string[] = [...(lenient?.warnings ?? [])];
  if (!isRecord(document)) {
    throw new ConfigError('must be an object whose keys are "registry" or "registry/namespace"', { file });
  }
  const entries: AuthJsonEntry[] = [];
  const keyOfScope = new Map<string, string>();
  for (const [key, raw] of Object.entries(document)) {
    const scope = parseScope(key);
    if (scope === undefined) {
      throw new ConfigError('is not "registry[:port]" or "registry[:port]/namespace"', { file, key });
    }
    const scopeId = `${scope.registry}/${scope.path}`;
    const twin = keyOfScope.get(scopeId);
    if (twin !== undefined) throw new ConfigError(`names the same registry scope as key "${twin}"`, { file, key });
    keyOfScope.set(scopeId, key);

    // YAML writes an anonymous registry as a key without a value.
    let value: unknown = raw ?? {};
    if (lenient && isRecord(value)) {
      const text = isRecord(lenient.raw) && isRecord(lenient.raw[key]) ? (lenient.raw[key] as Record<string, unknown>) : {};
      const known: Record<string, unknown> = {};
      for (const [field, v] of Object.entries(value)) {
        if (!(AUTH_JSON_FIELDS as readonly string[]).includes(field)) {
          warnings.push(`${file}: key "${key}": unknown field "${field}" ignored (allowed: ${AUTH_JSON_FIELDS.join(', ')})`);
          continue;
        }
        // go-yaml decodes a scalar into a string field as written: `password: 0123` is "0123".
        known[field] = field !== 'insecure' && (typeof v === 'number' || typeof v === 'boolean') ? String(text[field] ?? v) : v;
      }
      value = known;
    }
    const parsed = AuthJsonValue.safeParse(value);
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((i) => describeIssue(i, AUTH_JSON_FIELDS)).join('; '), { file, key });
    }
    const field = (name: 'username' | 'password'): string | undefined => {
      const written = parsed.data[name];
      if (written === undefined || written === '') return undefined;
      const fail = (problem: string): never => {
        throw new ConfigError(`"${name}": ${problem}`, { file, key });
      };
      const { value, variables } = expandVariables(written, env, fail);
      // CI systems hand an unset secret over as an empty variable; failing here beats a puzzling 401 later.
      if (value === '') fail(`${variables.join(', ')} expanded to an empty value`);
      return value;
    };
    const username = field('username');
    const password = field('password');
    if ((username === undefined) !== (password === undefined)) {
      const missing = username === undefined ? 'username' : 'password';
      throw new ConfigError(`"${missing}" is missing: give username and password together, or neither for anonymous access`, {
        file,
        key,
      });
    }
    entries.push({
      key,
      ...scope,
      ...(username !== undefined && password !== undefined ? { credential: { username, password } } : {}),
      ...(parsed.data.insecure !== undefined ? { insecure: parsed.data.insecure } : {}),
    });
  }
  return new AuthJsonSource(file, entries, warnings);
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
  return text === undefined ? new DockerConfigSource(file, { auths: [], credHelpers: new Map() }) : parseDockerConfig(text, file);
}

export function parseDockerConfig(text: string, file: string): DockerConfigSource {
  const document = parseDocument(text, file);
  const parsed = DockerConfigFile.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as Issue;
    const [top, host] = issue.path.map(String);
    const key = top === 'auths' || top === 'credHelpers' ? (host === undefined ? top : `${top}["${host}"]`) : top;
    const inner = { ...issue, path: issue.path.slice(key === top ? 1 : 2) } as Issue;
    throw new ConfigError(describeIssue(inner), key === undefined ? { file } : { file, key });
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
    if (colon < 0) throw new ConfigError('"auth" must be base64 of "username:password"', { file, key: `auths["${key}"]` });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (value.username || value.password) return { username: value.username ?? '', password: value.password ?? '' };
  return undefined;
}

function checkHelperName(helper: string, file: string, key: string): void {
  // The name becomes part of a program name looked up on PATH: no path separators, no option-like names.
  if (!HELPER_NAME.test(helper)) {
    throw new ConfigError('a credential helper name is letters, digits, ".", "_" and "-" (the program is docker-credential-<name>)', {
      file,
      key,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Credential helpers (docker-credential-helpers protocol: `get`, server URL on stdin, JSON on stdout)

const HELPER_TIMEOUT_MS = 60_000;
const HELPER_OUTPUT_MAX = 1 << 20;
const HELPER_NOT_FOUND = /credentials not found/i;
const HelperOutput = z.looseObject({ Username: z.string().optional(), Secret: z.string().optional() });

/** Per helper and host, for the process lifetime: a helper may prompt, unlock a keychain or call a cloud API. */
const helperCache = new Map<string, Promise<Credential | undefined>>();

function helperCredential(helper: string, host: string): Promise<Credential | undefined> {
  const cacheKey = `${helper}\n${host}`;
  let pending = helperCache.get(cacheKey);
  if (pending === undefined) {
    pending = queryHelper(helper, host);
    helperCache.set(cacheKey, pending);
    // Failures are not remembered: a later lookup may succeed (e.g. once a keychain is unlocked).
    const mine = pending;
    mine.catch(() => {
      if (helperCache.get(cacheKey) === mine) helperCache.delete(cacheKey);
    });
  }
  return pending;
}

async function queryHelper(helper: string, host: string): Promise<Credential | undefined> {
  // docker stores Docker Hub under its v1 index URL, podman and others under the plain name.
  const serverUrls = host === DOCKER_HUB ? ['https://index.docker.io/v1/', DOCKER_HUB] : [host];
  for (const serverUrl of serverUrls) {
    const credential = await runHelper(helper, serverUrl, host);
    if (credential !== undefined) return credential;
  }
  return undefined;
}

function runHelper(helper: string, serverUrl: string, host: string): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  // Neither stdout nor stderr goes into the message: a misbehaving helper may print the secret.
  const failure = (problem: string, cause?: unknown): SwrSyncError =>
    new SwrSyncError('ERR_CREDENTIAL_HELPER', `credential helper ${program} ${problem} (registry ${host})`, {
      registry: host,
      ...(cause !== undefined ? { cause } : {}),
    });

  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HELPER_TIMEOUT_MS);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= HELPER_OUTPUT_MAX) into.push(chunk);
      else child.kill('SIGKILL');
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    // The helper may exit without reading stdin; its exit status says what happened.
    child.stdin.on('error', () => {});

    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(failure(e.code === 'ENOENT' ? 'is not on PATH' : `could not be started (${e.code ?? 'unknown error'})`, e));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) {
        const credential = parseHelperOutput(out);
        if (credential === null) reject(failure('printed something other than credentials JSON'));
        else resolve(credential);
        return;
      }
      if (code !== null && (HELPER_NOT_FOUND.test(out) || HELPER_NOT_FOUND.test(Buffer.concat(stderr).toString('utf8')))) {
        resolve(undefined);
        return;
      }
      if (timedOut) reject(failure(`did not answer within ${HELPER_TIMEOUT_MS / 1000}s`));
      else if (size > HELPER_OUTPUT_MAX) reject(failure(`printed more than ${HELPER_OUTPUT_MAX} bytes`));
      else reject(failure(signal ? `was killed by ${signal}` : `failed with exit status ${code}`));
    });

    child.stdin.end(serverUrl);
  });
}

/** `null`: not the helper protocol's JSON; `undefined`: an answer without a secret. */
function parseHelperOutput(out: string): Credential | undefined | null {
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    return null;
  }
  const parsed = HelperOutput.safeParse(json);
  if (!parsed.success) return null;
  const { Username = '', Secret = '' } = parsed.data;
  if (Secret === '') return undefined;
  return { username: Username, password: Secret };
}

// ---------------------------------------------------------------------------------------------------------------
// Chains

/**
 * Asks each source in turn. The first one that has a credential for the registry supplies it; an entry without one
 * (an auth.json key like `"127.0.0.1:5000": { "insecure": true }`) marks the registry insecure but lets a later
 * source (the docker config, a credential helper) supply the login, as image-syncer's fallback to the default auth
 * files does.
 */
export function chainCredentialSources(...sources: readonly CredentialSource[]): CredentialSource {
  return {
    async lookup(registry, repository) {
      let first: RegistryAccess | undefined;
      for (const source of sources) {
        const access = await source.lookup(registry, repository);
        if (access === undefined) continue;
        if (access.credential) return { ...access, insecure: access.insecure || first?.insecure === true };
        first ??= access;
      }
      return first;
    },
  };
}
