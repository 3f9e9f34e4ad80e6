import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { expandVariables, isRecord, parseDocument, parseGoDocument, readConfigFile } from './parse-text.js';
import { describeIssue } from './zod-issues.js';
import {
  matchingScopes,
  parseScope,
  type Credential,
  type CredentialSource,
  type RegistryAccess,
  type Scope,
} from './credentials.js';

/**
 * image-migrator / image-syncer `auth.json`: keys `registry[:port]` or `registry[:port]/namespace`, values
 * `{ username, password, insecure }` with `${VAR}` expanded; the longest matching key wins.
 */

/** One auth.json key after validation and environment expansion. */
export interface AuthJsonEntry extends Scope {
  /** The key as written in the file. */
  readonly key: string;
  /** Absent: anonymous access. */
  readonly credential?: Credential;
  /** Absent: not stated by this key (a wider key of the same registry may state it). */
  readonly insecure?: boolean;
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
  /** How messages name the file (e.g. `input "auth"` for text the Action wrote to a temporary file). @default its path */
  readonly label?: string;
}

/** Reads an auth.json file (JSON or YAML) into a credential source; see `parseAuthJson`. */
export async function loadAuthJson(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: AuthJsonOptions = {},
): Promise<AuthJsonSource> {
  return parseAuthJson(await readConfigFile(file), options.label ?? file, env, options);
}

/** `file` names the text in messages (a path, or e.g. 'auth input' for inline text). */
export function parseAuthJson(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: AuthJsonOptions = {},
): AuthJsonSource {
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
      const text =
        isRecord(lenient.raw) && isRecord(lenient.raw[key]) ? (lenient.raw[key] as Record<string, unknown>) : {};
      const known: Record<string, unknown> = {};
      for (const [field, v] of Object.entries(value)) {
        if (!(AUTH_JSON_FIELDS as readonly string[]).includes(field)) {
          warnings.push(
            `${file}: key "${key}": unknown field "${field}" ignored (allowed: ${AUTH_JSON_FIELDS.join(', ')})`,
          );
          continue;
        }
        // go-yaml v2 decodes a YAML scalar into a string field as written (`password: 0123` is "0123");
        // encoding/json refuses a JSON number there, and so does this (no text in `raw` for it).
        known[field] =
          field !== 'insecure' && (typeof v === 'number' || typeof v === 'boolean') && typeof text[field] === 'string'
            ? text[field]
            : v;
      }
      value = known;
    }
    const parsed = AuthJsonValue.safeParse(value);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map((i) => describeIssue(i, { allowedFields: AUTH_JSON_FIELDS })).join('; '),
        { file, key },
      );
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
      throw new ConfigError(
        `"${missing}" is missing: give username and password together, or neither for anonymous access`,
        {
          file,
          key,
        },
      );
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
