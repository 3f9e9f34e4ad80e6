import { stringify as stringifyYaml } from 'yaml';
import { SwrSyncError } from '../errors.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, requireRule, type NameRule } from './names.js';

/**
 * An image pull Secret: type `kubernetes.io/dockerconfigjson`, whose `.dockerconfigjson` key holds (base64, as every
 * Secret `data` value) `{"auths":{"<host>":{"username","password","auth":base64("user:password")}}}` — the shape
 * `kubectl create secret docker-registry` writes and the kubelet reads. One Secret may hold several registries, so a
 * pod that pulls from SWR and from a third-party registry (CCE bursting to CCI) needs only one imagePullSecret.
 */

/** Credentials for one registry in a pull secret. */
export interface RegistryLogin {
  /** Registry host[:port], e.g. 'swr.cn-north-4.myhuaweicloud.com' or 'harbor.example.com:8443'. */
  readonly server: string;
  readonly username: string;
  readonly password: string;
  readonly email?: string;
}

/** One `auths` entry. `auth` is what clients send as HTTP Basic credentials. */
export interface DockerAuthValue {
  readonly username: string;
  readonly password: string;
  readonly auth: string;
  readonly email?: string;
}

export type PullSecretFormat = 'json' | 'yaml';

export interface PullSecretManifest {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  /** No namespace: `kubectl apply` puts it in `-n` or the context's namespace. */
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly type: 'kubernetes.io/dockerconfigjson';
  readonly data: { readonly '.dockerconfigjson': string };
}

export interface PullSecretSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly registries: readonly RegistryLogin[];
}

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?';
const PORT = '(:(?<port>[1-9][0-9]{0,4}))?';

/** A registry is named by its host as image references spell it: no scheme, no path. */
export const REGISTRY_HOST: NameRule = {
  text: 'must be a registry host[:port] without scheme or path (e.g. swr.cn-north-4.myhuaweicloud.com or harbor.example.com:8443)',
  test: (v) => {
    const match = new RegExp(`^(${LABEL}(\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\])${PORT}$`).exec(v);
    const port = match?.groups?.port;
    return match !== null && v.length <= 253 + 6 && (port === undefined || Number(port) <= 65535);
  },
};

// Basic auth joins user and password with ':' (RFC 7617 §2), so a user may not contain one; control characters
// are a stray newline from a file far more often than part of a credential.
const CONTROL = /\p{Cc}/u;

/** base64("user:password"), UTF-8, as docker login stores it. */
export function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/**
 * The `auths` object of a docker config. `encodeAuth` builds `auth` from user and password (the constructs pass
 * Terraform's base64encode when the values are tokens).
 */
export function dockerConfigAuths<T extends { server: string; username: string; password: string; email?: string }>(
  registries: readonly T[],
  encodeAuth: (username: string, password: string) => string = basicAuth,
): Record<string, DockerAuthValue> {
  const auths: Record<string, DockerAuthValue> = {};
  for (const r of registries) {
    auths[r.server] = {
      username: r.username,
      password: r.password,
      auth: encodeAuth(r.username, r.password),
      ...(r.email !== undefined ? { email: r.email } : {}),
    };
  }
  return auths;
}

/** The `.dockerconfigjson` document (compact JSON), before the base64 of Secret `data`. */
export function dockerConfigJson(registries: readonly RegistryLogin[]): string {
  return JSON.stringify({ auths: dockerConfigAuths(registries) });
}

/**
 * The Secret manifest `kubectl apply -f` takes. Validates names and hosts (the values in messages are never the
 * user name or password).
 */
export function pullSecretManifest(spec: PullSecretSpec): PullSecretManifest {
  requireRule('secret name', spec.name, DNS1123_SUBDOMAIN);
  if (spec.namespace !== undefined) requireRule('namespace', spec.namespace, DNS1123_LABEL);
  if (spec.registries.length === 0)
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', 'a pull secret needs at least one registry');
  const seen = new Set<string>();
  for (const r of spec.registries) {
    requireRule('registry', r.server, REGISTRY_HOST);
    const key = r.server.toLowerCase();
    if (seen.has(key))
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        `registry ${JSON.stringify(r.server)} is named twice: a pull secret holds one login per registry`,
      );
    seen.add(key);
    checkLogin(r);
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: spec.name, ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}) },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(dockerConfigJson(spec.registries), 'utf8').toString('base64') },
  };
}

function checkLogin(r: RegistryLogin): void {
  const where = `registry ${JSON.stringify(r.server)}`;
  if (r.username === '') throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${where}: the user name is empty`);
  if (r.username.includes(':') || CONTROL.test(r.username)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${where}: the user name must not contain ':' or control characters (HTTP Basic auth, RFC 7617)`,
    );
  }
  if (r.password === '') throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${where}: the password is empty`);
  if (CONTROL.test(r.password)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${where}: the password contains control characters (a trailing newline from a file or stdin?)`,
    );
  }
}

/** JSON (two-space indent, what imagepull-secret-generator's `*.json` output is) or YAML, with a final newline. */
export function formatPullSecret(manifest: PullSecretManifest, format: PullSecretFormat): string {
  return format === 'yaml' ? stringifyYaml(manifest, { lineWidth: 0 }) : `${JSON.stringify(manifest, null, 2)}\n`;
}
