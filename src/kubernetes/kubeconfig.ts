import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml, YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import { isRecord } from '../config/parse-text.js';

/**
 * Which kubeconfig `swr-sync config` reads, and the context, cluster and user it selects, checked before any client
 * library sees it so every problem is reported with the file, the context and the cluster.
 *
 * Files as kubectl finds them: `-k FILE`, else every file of `$KUBECONFIG` (path-list separated, merged: the first
 * file to define a name, or `current-context`, wins), else `~/.kube/config`. Paths in a file (certificate-authority,
 * client-certificate, client-key, token-file) are relative to that file.
 *
 * Messages name files, contexts, clusters, users and servers only. Tokens, passwords and keys are never quoted, and
 * YAML syntax errors give a line and column without the text of the line.
 */

export interface KubeconfigLocation {
  readonly files: readonly string[];
  /** How the files were chosen, for messages: `-k`, `$KUBECONFIG` or `the default ~/.kube/config`. */
  readonly origin: string;
}

export interface Kubeconfig {
  readonly files: readonly string[];
  readonly context: string;
  readonly cluster: string;
  readonly user: string | undefined;
  /** API server URL as written in the cluster entry (no trailing slash). */
  readonly server: string;
  /** The merged kubeconfig with the selected context current and absolute paths, for the client library. */
  readonly document: Record<string, unknown>;
  /** Every secret value of the selected user, so messages from below can be checked for leaks. */
  readonly secrets: readonly string[];
}

/** `-k`, then `$KUBECONFIG`, then `~/.kube/config`. */
export function locateKubeconfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeconfigLocation {
  if (flag !== undefined && flag !== '') return { files: [flag], origin: '-k' };
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (list.length > 0) return { files: [...new Set(list)], origin: '$KUBECONFIG' };
  const home = env.HOME && env.HOME !== '' ? env.HOME : homedir();
  return { files: [join(home, '.kube', 'config')], origin: 'the default ~/.kube/config' };
}

const NAMED_LISTS = ['clusters', 'contexts', 'users'] as const;
type NamedList = (typeof NAMED_LISTS)[number];
const ENTRY_FIELD: Record<NamedList, string> = { clusters: 'cluster', contexts: 'context', users: 'user' };
/** Fields holding file paths, per list, resolved against the file that holds them. */
const PATH_FIELDS: Record<NamedList, readonly string[]> = {
  clusters: ['certificate-authority'],
  contexts: [],
  users: ['client-certificate', 'client-key', 'token-file'],
};
const SECRET_FIELDS = ['token', 'password', 'client-key-data'];

/**
 * Reads, merges and checks the kubeconfig. `context` overrides `current-context`. Every problem is a `ConfigError`
 * (exit status 2) naming the file(s) and, past parsing, the context and cluster.
 */
export async function loadKubeconfig(location: KubeconfigLocation, context?: string): Promise<Kubeconfig> {
  const merged: Record<NamedList, Map<string, Record<string, unknown>>> = {
    clusters: new Map(),
    contexts: new Map(),
    users: new Map(),
  };
  let currentContext: string | undefined;
  let preferences: unknown;

  for (const file of location.files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const problem =
        code === 'ENOENT'
          ? `kubeconfig not found (from ${location.origin}); give one with -k FILE or $KUBECONFIG, or use --from-manifests`
          : code === 'EISDIR'
            ? 'is a directory, not a kubeconfig file'
            : `cannot read the kubeconfig (${code ?? 'unknown error'})`;
      throw new ConfigError(problem, { file, code: 'ERR_CONFIG_READ', cause: e });
    }
    let document: unknown;
    try {
      document = parseYaml(text, { logLevel: 'error', prettyErrors: true });
    } catch (e) {
      const where =
        e instanceof YAMLError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
      throw new ConfigError(
        `not a valid kubeconfig: YAML syntax error${where}${e instanceof YAMLError ? ` (${e.code})` : ''}`,
        { file },
      );
    }
    if (document === null || document === undefined) continue;
    if (!isRecord(document))
      throw new ConfigError('not a valid kubeconfig: expected a mapping with clusters, contexts and users', { file });
    if (document.kind !== undefined && document.kind !== 'Config') {
      throw new ConfigError(`not a kubeconfig: its kind is "${String(document.kind)}", a kubeconfig has kind Config`, {
        file,
      });
    }

    for (const list of NAMED_LISTS) {
      const entries = document[list];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) throw new ConfigError(`not a valid kubeconfig: "${list}" must be a list`, { file });
      entries.forEach((entry, i) => {
        const field = ENTRY_FIELD[list];
        if (!isRecord(entry) || typeof entry.name !== 'string' || entry.name === '') {
          throw new ConfigError(`not a valid kubeconfig: ${list}[${i}] must have a "name"`, { file });
        }
        const body = entry[field];
        if (body !== undefined && body !== null && !isRecord(body)) {
          throw new ConfigError(
            `not a valid kubeconfig: ${list}[${i}] ("${entry.name}"): "${field}" must be a mapping`,
            { file },
          );
        }
        if (merged[list].has(entry.name)) return;
        const resolved: Record<string, unknown> = { ...((body as Record<string, unknown> | undefined) ?? {}) };
        for (const key of PATH_FIELDS[list]) {
          const value = resolved[key];
          if (typeof value === 'string' && value !== '' && !isAbsolute(value))
            resolved[key] = join(dirname(file), value);
        }
        merged[list].set(entry.name, { name: entry.name, [field]: resolved, '#file': file });
      });
    }
    if (
      currentContext === undefined &&
      typeof document['current-context'] === 'string' &&
      document['current-context'] !== ''
    ) {
      currentContext = document['current-context'];
    }
    preferences ??= document.preferences;
  }

  const files = location.files;
  const where = files.length === 1 ? (files[0] as string) : `${location.origin} (${files.join(', ')})`;
  const fail = (message: string, file = where): never => {
    throw new ConfigError(message, { file });
  };
  const names = (list: NamedList): string => {
    const all = [...merged[list].keys()];
    return all.length === 0 ? `it defines no ${list}` : `${list} defined: ${all.map((n) => `"${n}"`).join(', ')}`;
  };

  const contextName = context ?? currentContext;
  if (contextName === undefined) fail(`no current-context is set and no --context was given; ${names('contexts')}`);
  const contextEntry = merged.contexts.get(contextName as string);
  if (!contextEntry) fail(`context "${contextName}" is not defined; ${names('contexts')}`);
  const ctx = (contextEntry as Record<string, unknown>).context as Record<string, unknown>;
  const contextFile = (contextEntry as Record<string, unknown>)['#file'] as string;

  const clusterName = typeof ctx.cluster === 'string' && ctx.cluster !== '' ? ctx.cluster : undefined;
  if (clusterName === undefined) fail(`context "${contextName}" names no cluster`, contextFile);
  const clusterEntry = merged.clusters.get(clusterName as string);
  if (!clusterEntry)
    fail(`context "${contextName}" names cluster "${clusterName}", which is not defined; ${names('clusters')}`);
  const cluster = (clusterEntry as Record<string, unknown>).cluster as Record<string, unknown>;
  const clusterFile = (clusterEntry as Record<string, unknown>)['#file'] as string;
  const about = `context "${contextName}", cluster "${clusterName}"`;

  const server = typeof cluster.server === 'string' ? cluster.server.trim().replace(/\/+$/, '') : '';
  if (server === '') fail(`${about}: the cluster has no server URL`, clusterFile);
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    // Without any user:password@ part the URL may hold.
    const shown = url ? `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}` : server;
    fail(`${about}: server "${shown}" is not an http(s)://host[:port] URL without user or password`, clusterFile);
  }
  if (url?.protocol === 'http:' && cluster['insecure-skip-tls-verify'] !== true) {
    fail(
      `${about}: server ${server} is plain HTTP; the Kubernetes client accepts that only with insecure-skip-tls-verify: true on the cluster`,
      clusterFile,
    );
  }
  const caFile = cluster['certificate-authority'];
  if (typeof caFile === 'string' && caFile !== '' && !readable(caFile)) {
    fail(`${about}: certificate-authority file ${caFile} cannot be read`, clusterFile);
  }

  let userName: string | undefined;
  let secrets: string[] = [];
  if (typeof ctx.user === 'string' && ctx.user !== '') {
    userName = ctx.user;
    const userEntry = merged.users.get(userName);
    if (!userEntry) fail(`${about}: the context names user "${userName}", which is not defined; ${names('users')}`);
    const user = (userEntry as Record<string, unknown>).user as Record<string, unknown>;
    const userFile = (userEntry as Record<string, unknown>)['#file'] as string;
    for (const key of PATH_FIELDS.users) {
      const value = user[key];
      if (typeof value === 'string' && value !== '' && !readable(value))
        fail(`${about}, user "${userName}": ${key} file ${value} cannot be read`, userFile);
    }
    // A token file is read here and given to the library inline, trimmed as client-go reads it (a token file
    // usually ends in a line break, which Node refuses in a header and then quotes in its error message).
    const tokenFile = user['token-file'];
    if (typeof tokenFile === 'string' && tokenFile !== '' && typeof user.token !== 'string') {
      let token: string;
      try {
        token = (await readFile(tokenFile, 'utf8')).trim();
      } catch (e) {
        throw new ConfigError(
          `${about}, user "${userName}": token-file ${tokenFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'unknown error'})`,
          { file: userFile, code: 'ERR_CONFIG_READ' },
        );
      }
      if (token === '') fail(`${about}, user "${userName}": token-file ${tokenFile} is empty`, userFile);
      delete user['token-file'];
      user.token = token;
    }
    secrets = SECRET_FIELDS.map((k) => user[k]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  }

  const strip = (entry: Record<string, unknown>): Record<string, unknown> => {
    const { '#file': _file, ...rest } = entry;
    return rest;
  };
  const document: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [...merged.clusters.values()].map(strip),
    contexts: [...merged.contexts.values()].map(strip),
    users: [...merged.users.values()].map(strip),
    'current-context': contextName,
    ...(preferences !== undefined ? { preferences } : {}),
  };
  return {
    files,
    context: contextName as string,
    cluster: clusterName as string,
    user: userName,
    server,
    document,
    secrets,
  };
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
