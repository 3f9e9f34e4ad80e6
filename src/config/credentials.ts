import { normalizeRegistry } from '../oci/reference.js';

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

/** What a credential source knows about one registry: the credential (if any), whether it is insecure, and where that came from. */
export interface RegistryAccess {
  readonly credential?: Credential;
  /** Plain HTTP allowed for this registry. */
  readonly insecure: boolean;
  /** For messages: e.g. 'auth.json key "127.0.0.1:5000/ns"' or 'docker config ~/.docker/config.json' — never the secret. */
  readonly source: string;
}

/** Where credentials come from (auth.json, a Docker config, a chain of them); looked up per registry and repository. */
export interface CredentialSource {
  /** `undefined` when this source knows nothing about the registry (the next source in a chain is asked). */
  lookup(registry: string, repository: string): Promise<RegistryAccess | undefined>;
}

/** A part of one registry that a file key covers: the whole registry (`path` '') or a namespace prefix. */
export interface Scope {
  /** Normalized `host[:port]`. */
  readonly registry: string;
  /** Repository path prefix without leading or trailing '/', '' for the whole registry. */
  readonly path: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts and scopes

const URL_SCHEME = /^https?:\/\//i;
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

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

export function parseScope(key: string): Scope | undefined {
  const normalized = normalizeRegistryHost(key);
  const slash = normalized.indexOf('/');
  const registry = slash < 0 ? normalized : normalized.slice(0, slash);
  const path = slash < 0 ? '' : normalized.slice(slash + 1);
  if (!HOST.test(registry)) return undefined;
  if (path !== '' && path.split('/').some((segment) => segment === '' || /\s/.test(segment))) return undefined;
  return { registry, path };
}

/** Scopes covering `registry/repository`, narrowest first; a prefix only counts at a '/' boundary. */
export function matchingScopes<T extends Scope>(entries: readonly T[], registry: string, repository: string): T[] {
  const host = normalizeRegistryHost(registry);
  const repo = repository.replace(/^\/+|\/+$/g, '');
  return entries
    .filter((e) => e.registry === host && (e.path === '' || repo === e.path || repo.startsWith(`${e.path}/`)))
    .sort((a, b) => b.path.length - a.path.length);
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
