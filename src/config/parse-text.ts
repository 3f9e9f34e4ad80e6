import { readFile } from 'node:fs/promises';
import { parse as parseYaml, parseDocument as parseYamlDocument, YAMLError } from 'yaml';
import { ConfigError, ConfigErrors } from '../errors.js';

/**
 * Reading configuration files shared by auth.json, images.json and the mirror spec: the file's text, JSON or YAML
 * (chosen by content, not by file name), `${VAR}` / `$VAR` expansion, and collecting every problem of a file so
 * the user sees them all at once.
 *
 * Syntax errors name a line and column but never quote the text: the offending line may hold a password.
 */

export async function readConfigFile(file: string): Promise<string>;
export async function readConfigFile(file: string, options: { optional: true }): Promise<string | undefined>;
export async function readConfigFile(file: string, options: { optional?: boolean } = {}): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.optional) return undefined;
    const problem =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot read the file (${code ?? 'unknown error'})`;
    throw new ConfigError(problem, { file, code: 'ERR_CONFIG_READ', cause: e });
  }
}

export interface ParseDocumentOptions {
  /**
   * Reject a key written twice in one mapping. YAML always does; `JSON.parse` silently keeps the last one, so
   * with this option a JSON text is also checked (by the YAML parser, which reads JSON) to locate the duplicate.
   * @default false
   */
  readonly uniqueKeys?: boolean;
}

/** JSON or YAML: JSON first, then YAML (which also locates the position of a JSON syntax error). */
export function parseDocument(text: string, file: string, options: ParseDocumentOptions = {}): unknown {
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(text);
    isJson = true;
  } catch {
    // Not JSON: YAML, or a syntax error that the YAML parser can locate.
  }
  if (isJson) {
    if (options.uniqueKeys) {
      const duplicate = parseYamlDocument(text, { logLevel: 'silent' }).errors.find((e) => e.code === 'DUPLICATE_KEY');
      if (duplicate) throw new ConfigError(`a key is written twice in one object${position(duplicate)}`, { file });
    }
    return json;
  }
  try {
    return parseYaml(text, { logLevel: 'error' });
  } catch (e) {
    if (options.uniqueKeys && e instanceof YAMLError && e.code === 'DUPLICATE_KEY') {
      throw new ConfigError(`a key is written twice in one mapping${position(e)}`, { file });
    }
    const code = e instanceof YAMLError ? ` (${e.code})` : '';
    throw new ConfigError(`not valid JSON or YAML${e instanceof YAMLError ? position(e) : ''}${code}`, { file });
  }
}

/** A document read as image-syncer and image-migrator (Go programs) read it; see parseGoDocument. */
export interface GoDocument {
  /** The document with YAML 1.1 types (`yes`/`no`/`on`/`off` are booleans). */
  readonly value: unknown;
  /** The same document with every scalar as its text (`0123` stays "0123"), for fields Go decodes as strings. */
  readonly raw: unknown;
  /** Keys written twice (the last one was taken), with their line. */
  readonly warnings: readonly string[];
}

/**
 * JSON or YAML read the way the Go tools read their files, for images and auth files outside `--strict`: JSON as
 * encoding/json does and YAML as go-yaml v2 does, i.e. YAML 1.1 (https://yaml.org/type/bool.html: `yes`, `on`,
 * `off` are booleans), a key written twice keeps its last value (reported as a warning here, silently there), and a
 * number where Go expects a string is its text (`password: 0123` is "0123", not 83): `raw` keeps that text.
 */
export function parseGoDocument(text: string, file: string): GoDocument {
  const warnings: string[] = [];
  const duplicates = (version: '1.1' | '1.2'): void => {
    for (const e of parseYamlDocument(text, { version, logLevel: 'silent' }).errors) {
      if (e.code === 'DUPLICATE_KEY')
        warnings.push(`${file}: a key is written twice in one mapping${position(e)}: the last one is used`);
    }
  };
  try {
    const value: unknown = JSON.parse(text);
    duplicates('1.2');
    return { value, raw: value, warnings };
  } catch {
    // Not JSON: YAML below, which also locates a JSON syntax error.
  }
  const document = parseYamlDocument(text, { version: '1.1', uniqueKeys: false, logLevel: 'silent' });
  const error = document.errors[0];
  if (error) throw new ConfigError(`not valid JSON or YAML${position(error)} (${error.code})`, { file });
  duplicates('1.1');
  const raw: unknown = parseYamlDocument(text, { schema: 'failsafe', uniqueKeys: false, logLevel: 'silent' }).toJS();
  return { value: document.toJS(), raw, warnings };
}

function position(e: YAMLError): string {
  return e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Environment expansion

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BARE_VARIABLE = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * `${VAR}` and `$VAR` from `env` (image-syncer and image-migrator expand both); `$$` is a literal `$`, and a `$`
 * not followed by a name stays as written. Problems go to `fail` with variable names only, never values.
 */
export function expandVariables(
  text: string,
  env: NodeJS.ProcessEnv,
  fail: (problem: string) => never,
): { value: string; variables: string[] } {
  let value = '';
  const variables: string[] = [];
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      value += text.slice(i);
      break;
    }
    value += text.slice(i, dollar);
    let name: string;
    if (text[dollar + 1] === '$') {
      value += '$';
      i = dollar + 2;
      continue;
    } else if (text[dollar + 1] === '{') {
      const close = text.indexOf('}', dollar + 2);
      if (close < 0) fail('"${" has no closing "}" (write $$ for a literal $)');
      name = text.slice(dollar + 2, close);
      if (!VARIABLE_NAME.test(name)) fail('"${...}" must hold an environment variable name (write $$ for a literal $)');
      i = close + 1;
    } else {
      BARE_VARIABLE.lastIndex = dollar + 1;
      const match = BARE_VARIABLE.exec(text);
      if (!match) {
        value += '$';
        i = dollar + 1;
        continue;
      }
      name = match[0];
      i = dollar + 1 + name.length;
    }
    const expanded = env[name];
    if (expanded === undefined) fail(`environment variable ${name} is not set`);
    value += expanded;
    variables.push(name);
  }
  return { value, variables };
}

/** `expandVariables` that returns the problem instead of throwing it. */
export function tryExpandVariables(text: string, env: NodeJS.ProcessEnv): { value: string } | { problem: string } {
  const failure = new Error('variable expansion failed');
  let problem = '';
  const fail = (p: string): never => {
    problem = p;
    throw failure;
  };
  try {
    return { value: expandVariables(text, env, fail).value };
  } catch (e) {
    if (e === failure) return { problem };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Collecting problems

/** Every problem found in one file, thrown together as one `ConfigErrors`. */
export class ProblemList {
  readonly problems: ConfigError[] = [];
  constructor(readonly file: string) {}

  /** `key` undefined: a problem of the whole file. */
  add(key: string | undefined, message: string): void {
    this.problems.push(new ConfigError(message, key === undefined ? { file: this.file } : { file: this.file, key }));
  }

  get size(): number {
    return this.problems.length;
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigErrors(this.problems, { file: this.file });
  }
}
