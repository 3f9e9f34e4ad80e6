import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { parseAuthJson, type AuthJsonEntry } from '../config/auth-json.js';
import { parseImagesFile } from '../config/images-file.js';
import { DURATION_RULE, parseDuration } from '../config/duration.js';
import { readConfigFile } from '../config/parse-text.js';
import { BYTE_RATE_RULE, parseByteRate, parseRequestRate, RATE_RULE } from '../config/registry-limits.js';
import { ConfigError, SwrSyncError } from '../errors.js';
import type { JobConfig } from '../job/job-config.js';
import { parsePlatforms, type Platform } from '../oci/platform.js';
import { parseShard, type Shard } from '../plan/shard.js';
import { DEFAULT_RETRIES, DEFAULT_WORKERS, RETRIES_MAX, RETRIES_MIN, WORKERS_MAX, WORKERS_MIN } from '../defaults.js';

/**
 * The one place that reads the Action's inputs (docs/action.md): every input is read, validated and turned into a typed
 * value here, with messages that name the input (`input "workers": expected a positive integer, got "x"`).
 *
 * Secrets first: the `github-token` and every password of `auth` (after `${VAR}` expansion), with the base64
 * `user:pass` strings derived from them, go to `core.setSecret` before anything else is read or logged.
 */

export type Mode = 'sync' | 'plan';

export interface ActionInputs {
  readonly mode: Mode;
  /** Images files for the job: the `images` input (written to a file when inline), then the `manifest`'s files. */
  readonly imageFiles: readonly string[];
  /** How the images were given, for the log (paths relative to the workspace). */
  readonly imagesOrigin: string;
  /** The file an inline `images` was written to (messages name it `input "images"`). */
  readonly inlineImagesFile?: string;
  /** auth.json for the job (an inline `auth` is written to a 0600 file under RUNNER_TEMP). */
  readonly authFile?: string;
  /** Whether `authFile` holds an inline `auth` (messages then name the input, not a file deleted after the step). */
  readonly authInline?: boolean;
  readonly registry?: string;
  readonly namespace?: string;
  readonly workers: number;
  readonly retries: number;
  /** Absent: every platform. */
  readonly platforms?: readonly Platform[];
  readonly platformsText?: string;
  /** Absolute path of the lock file (relative inputs are taken from GITHUB_WORKSPACE). */
  readonly lockFile?: string;
  readonly shard?: Shard;
  /** Copy what refers to each image (signatures, attestations, SBOMs). */
  readonly withReferrers: boolean;
  /** With a lock file: ask the destination too before calling a tag unchanged. */
  readonly verifyDestination: boolean;
  /** Requests per second per registry. */
  readonly rate?: number;
  /** Bytes per second per registry. */
  readonly bandwidth?: number;
  /** Bound of the whole run. */
  readonly timeoutMs?: number;
  /** Offer HTTP/2 to TLS registries for reads that are not blobs (`false`: HTTP/1.1 only). */
  readonly http2: boolean;
  readonly summary: boolean;
  readonly comment: boolean;
  readonly githubToken?: string;
  /** The directory of the temporary files written for inline inputs (removed by `cleanup`). */
  readonly tempDir?: string;
  /** Removes what was written for inline inputs (the auth file holds secrets). */
  cleanup(): Promise<void>;
}

/** An input that breaks its rule; the message starts with `input "<name>":`. */
export class InputError extends SwrSyncError {
  readonly input: string;
  constructor(input: string, problem: string) {
    super('ERR_INVALID_ARGUMENT', `input "${input}": ${problem}`);
    this.input = input;
  }
}

export interface InputContext {
  /** The raw value of an input ('' when not given). @default core.getInput (INPUT_<NAME>, hyphens kept) */
  readonly getInput?: (name: string) => string;
  readonly env?: NodeJS.ProcessEnv;
  /** @default core.setSecret */
  readonly setSecret?: (secret: string) => void;
}

/** Reads every input. Throws `InputError` / `ConfigError` (input errors) before anything is sent anywhere. */
export async function readInputs(context: InputContext = {}): Promise<ActionInputs> {
  const env = context.env ?? process.env;
  const get = (name: string): string => (context.getInput ?? ((n: string) => core.getInput(n)))(name).trim();
  const setSecret = context.setSecret ?? ((s: string) => core.setSecret(s));
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  const temp = new TempFiles(env.RUNNER_TEMP || tmpdir());

  try {
    // Secrets before anything else.
    const githubToken = get('github-token');
    if (githubToken) setSecret(githubToken);
    const auth = await authInput(get('auth'), { workspace, env, setSecret, temp });

    const mode = modeInput(get('mode'));
    const workers = integerInput('workers', get('workers'), {
      min: WORKERS_MIN,
      max: WORKERS_MAX,
      fallback: DEFAULT_WORKERS,
    });
    const retries = integerInput('retries', get('retries'), {
      min: RETRIES_MIN,
      max: RETRIES_MAX,
      fallback: DEFAULT_RETRIES,
    });
    const shardText = get('shard');
    const shard = shardText ? shardInput(shardText) : undefined;
    const platformsText = get('platforms');
    const platforms = platformsInput(platformsText);
    const withReferrers = booleanInput('with-referrers', get('with-referrers'), false);
    const verifyDestination = booleanInput('verify-destination', get('verify-destination'), false);
    const rate = optionalInput('rate', get('rate'), parseRequestRate, RATE_RULE);
    const bandwidth = optionalInput('bandwidth', get('bandwidth'), parseByteRate, BYTE_RATE_RULE);
    const timeoutMs = optionalInput('timeout', get('timeout'), parseDuration, DURATION_RULE);
    const http2 = booleanInput('http2', get('http2'), true);
    const summary = booleanInput('summary', get('summary'), true);
    const comment = booleanInput('comment', get('comment'), false);
    const registry = get('registry') || undefined;
    const namespace = get('namespace') || undefined;
    const lockText = get('lock-file');
    const lockFile = lockText ? resolve(workspace, lockText) : undefined;

    const imagesText = get('images');
    const manifestText = get('manifest');
    if (!imagesText && !manifestText) {
      throw new InputError(
        'images',
        'neither "images" nor "manifest" is set: give an images.json / mirror spec (path or inline), or the path of a swr-mirror.json or cdktf.out directory in "manifest"',
      );
    }
    const defaults = { ...(registry ? { registry } : {}), ...(namespace ? { namespace } : {}), env };
    const imageFiles: string[] = [];
    const origins: string[] = [];
    let inlineImagesFile: string | undefined;
    if (imagesText) {
      const images = await imagesInput(imagesText, { workspace, temp, defaults });
      imageFiles.push(images.file);
      origins.push(images.origin);
      if (images.inline) inlineImagesFile = images.file;
    }
    if (manifestText) {
      const files = await manifestInput(manifestText, workspace);
      imageFiles.push(...files);
      origins.push(
        files.length > 0
          ? files.map((f) => display(f, workspace)).join(', ')
          : `${manifestText} (no stack has a swr-mirror.json)`,
      );
    }

    return {
      mode,
      imageFiles,
      imagesOrigin: origins.join('; '),
      ...(inlineImagesFile ? { inlineImagesFile } : {}),
      ...(auth ? { authFile: auth.file, ...(auth.inline ? { authInline: true } : {}) } : {}),
      ...(registry ? { registry } : {}),
      ...(namespace ? { namespace } : {}),
      workers,
      retries,
      ...(platforms ? { platforms, platformsText } : {}),
      ...(lockFile ? { lockFile } : {}),
      ...(shard ? { shard } : {}),
      withReferrers,
      verifyDestination,
      ...(rate !== undefined ? { rate } : {}),
      ...(bandwidth !== undefined ? { bandwidth } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      http2,
      summary,
      comment,
      ...(githubToken ? { githubToken } : {}),
      ...(temp.dir ? { tempDir: temp.dir } : {}),
      cleanup: () => temp.remove(),
    };
  } catch (error) {
    await temp.remove();
    throw error;
  }
}

/** The job configuration the engine runs (src/job). */
export function jobConfigOf(inputs: ActionInputs, env: NodeJS.ProcessEnv = process.env): JobConfig {
  return {
    images: inputs.imageFiles,
    // A workflow step is CI: a broken images or auth file fails the step before anything is copied (the CLI's
    // --strict), rather than skipping a rule as image-syncer and image-migrator do (docs/migrating.md).
    strict: true,
    ...(inputs.authFile ? { auth: inputs.authFile, ...(inputs.authInline ? { authLabel: 'input "auth"' } : {}) } : {}),
    ...(inputs.registry ? { registry: inputs.registry } : {}),
    ...(inputs.namespace ? { namespace: inputs.namespace } : {}),
    workers: inputs.workers,
    retries: inputs.retries,
    ...(inputs.platforms ? { platforms: inputs.platforms } : {}),
    ...(inputs.lockFile ? { lockFile: inputs.lockFile } : {}),
    ...(inputs.shard ? { shard: inputs.shard } : {}),
    ...(inputs.withReferrers ? { withReferrers: true } : {}),
    ...(inputs.verifyDestination ? { verifyDestination: true } : {}),
    ...(inputs.rate !== undefined ? { rate: inputs.rate } : {}),
    ...(inputs.bandwidth !== undefined ? { bandwidth: inputs.bandwidth } : {}),
    ...(inputs.timeoutMs !== undefined ? { timeoutMs: inputs.timeoutMs, timeoutSetBy: 'timeout input' } : {}),
    ...(inputs.http2 ? {} : { http2: false }),
    env,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

function modeInput(text: string): Mode {
  if (text === '' || text === 'sync') return 'sync';
  if (text === 'plan') return 'plan';
  throw new InputError('mode', `expected "sync" or "plan", got ${quote(text)}`);
}

function integerInput(name: string, text: string, range: { min: number; max: number; fallback: number }): number {
  if (text === '') return range.fallback;
  const kind = range.min > 0 ? 'a positive integer' : 'a non-negative integer';
  if (!/^\d+$/.test(text)) throw new InputError(name, `expected ${kind}, got ${quote(text)}`);
  const value = Number(text);
  if (value < range.min || value > range.max) {
    throw new InputError(name, `expected ${kind} from ${range.min} to ${range.max}, got ${quote(text)}`);
  }
  return value;
}

/** YAML 1.2 core schema booleans, as core.getBooleanInput accepts them. */
function booleanInput(name: string, text: string, fallback: boolean): boolean {
  if (text === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new InputError(name, `expected true or false, got ${quote(text)}`);
}

/** An optional input parsed by the same rule as its CLI flag; the message quotes the rule. */
function optionalInput(
  name: string,
  text: string,
  parse: (text: string) => number | undefined,
  rule: string,
): number | undefined {
  if (text === '') return undefined;
  const value = parse(text);
  if (value === undefined) throw new InputError(name, `expected ${rule}, got ${quote(text)}`);
  return value;
}

function shardInput(text: string): Shard {
  try {
    return parseShard(text);
  } catch {
    throw new InputError(
      'shard',
      `expected I/N with 1 <= I <= N <= 10000 (e.g. 2/4, one per matrix job), got ${quote(text)}`,
    );
  }
}

/** Comma- or newline-separated `os/arch[/variant]`; empty or `all` means every platform. */
function platformsInput(text: string): Platform[] | undefined {
  const items = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0 || (items.length === 1 && items[0]!.toLowerCase() === 'all')) return undefined;
  return parsePlatforms(items, 'input "platforms":');
}

// ---------------------------------------------------------------------------------------------------------------
// Files and inline documents

/** A value holding a document rather than naming a file: several lines, or JSON / YAML flow syntax. */
function looksInline(text: string): boolean {
  return text.includes('\n') || /^[{[]/.test(text);
}

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'directory' : 'file';
  } catch {
    return undefined;
  }
}

interface AuthContext {
  readonly workspace: string;
  readonly env: NodeJS.ProcessEnv;
  readonly setSecret: (secret: string) => void;
  readonly temp: TempFiles;
}

/**
 * `auth`: a path, or the auth.json itself (from a secret). Its passwords are masked before anything is logged; an
 * inline value is written to a 0600 file under RUNNER_TEMP for the job. Neither the value nor a line of it is ever
 * quoted in a message (parse errors give a line and column only), so masking the passwords is enough.
 */
async function authInput(text: string, context: AuthContext): Promise<{ file: string; inline: boolean } | undefined> {
  if (!text) return undefined;
  let document: string;
  let file: string | undefined;
  if (looksInline(text)) {
    document = text;
  } else {
    file = resolve(context.workspace, text);
    const kind = await kindOf(file);
    if (kind === undefined) {
      // No file: inline one-line YAML (`host: {username: u, password: p}`) or a wrong path; the value may be a secret.
      if (!/:\s/.test(text))
        throw new InputError(
          'auth',
          'no file at the given path, and the value is not an inline auth.json (JSON or YAML)',
        );
      document = text;
      file = undefined;
    } else if (kind === 'directory') {
      throw new InputError('auth', `${quote(text)} is a directory: give the path of an auth.json, or its content`);
    } else {
      document = await readConfigFile(file);
    }
  }
  const source = parseAuthJson(document, file ?? 'input "auth"', context.env);
  maskCredentials(source.entries, context.setSecret);
  if (file) return { file, inline: false };
  return { file: await context.temp.write('auth.json', document, 0o600), inline: true };
}

/** Every password and token, and the base64 forms a registry request carries (Basic `user:pass`). */
export function maskCredentials(entries: readonly AuthJsonEntry[], setSecret: (secret: string) => void): void {
  for (const entry of entries) {
    const credential = entry.credential;
    if (!credential) continue;
    setSecret(credential.password);
    setSecret(Buffer.from(`${credential.username}:${credential.password}`).toString('base64'));
    setSecret(Buffer.from(credential.password).toString('base64'));
  }
}

/** `images`: a path to images.json / a mirror spec (JSON or YAML), or the document inline. */
async function imagesInput(
  text: string,
  context: {
    workspace: string;
    temp: TempFiles;
    defaults: { registry?: string; namespace?: string; env: NodeJS.ProcessEnv };
  },
): Promise<{ file: string; origin: string; inline: boolean }> {
  if (!looksInline(text)) {
    const file = resolve(context.workspace, text);
    const kind = await kindOf(file);
    if (kind === 'file') return { file, origin: display(file, context.workspace), inline: false };
    if (kind === 'directory') {
      throw new InputError(
        'images',
        `${quote(text)} is a directory: give an images.json or mirror spec file (for a cdktf.out directory use "manifest")`,
      );
    }
    if (!/:\s/.test(text))
      throw new InputError('images', `no file at ${quote(text)} (relative paths are taken from the workspace)`);
  }
  // Inline: checked here so that messages name the input, then written to a file for the job.
  parseImagesFile(text, 'input "images"', context.defaults);
  const file = await context.temp.write(
    text.trimStart().startsWith('{') ? 'images.json' : 'images.yaml',
    `${text}\n`,
    0o644,
  );
  return { file, origin: 'inline "images"', inline: true };
}

const MIRROR_SPEC = 'swr-mirror.json';

/** `manifest`: a swr-mirror.json, a stack directory holding one, or a cdktf.out directory (every stacks/<name>/swr-mirror.json). */
export async function manifestInput(text: string, workspace: string): Promise<string[]> {
  const path = resolve(workspace, text);
  const kind = await kindOf(path);
  if (kind === undefined)
    throw new InputError(
      'manifest',
      `no file or directory at ${quote(text)} (relative paths are taken from the workspace)`,
    );
  if (kind === 'file') return [path];
  const stacksDir = join(path, 'stacks');
  if ((await kindOf(stacksDir)) === 'directory') {
    const stacks = (await readdir(stacksDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const files: string[] = [];
    for (const stack of stacks) {
      const file = join(stacksDir, stack, MIRROR_SPEC);
      if ((await kindOf(file)) === 'file') files.push(file);
    }
    return files;
  }
  const single = join(path, MIRROR_SPEC);
  if ((await kindOf(single)) === 'file') return [single];
  throw new InputError(
    'manifest',
    `${quote(text)} is a directory with neither stacks/*/${MIRROR_SPEC} (a cdktf.out directory) nor ${MIRROR_SPEC}`,
  );
}

/** Temporary files under RUNNER_TEMP, in a 0700 directory of their own. */
class TempFiles {
  dir: string | undefined;
  constructor(private readonly base: string) {}

  async write(name: string, content: string, mode: number): Promise<string> {
    try {
      this.dir ??= await mkdtemp(join(this.base, 'swr-sync-'));
      const file = join(this.dir, name);
      await writeFile(file, content, { mode, flag: 'wx' });
      await chmod(file, mode);
      return file;
    } catch (error) {
      throw new ConfigError(
        `cannot write a temporary file under ${this.base} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        { code: 'ERR_CONFIG_READ' },
      );
    }
  }

  async remove(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** A path for the log: relative to the workspace when inside it. */
export function display(path: string, workspace: string): string {
  const rel = relative(workspace, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}
