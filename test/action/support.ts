import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run compiled, from lib/test/action/). */
export const ROOT = resolve(here, '../../..');
/** The committed bundle, run as the runner runs it. */
export const DIST = join(ROOT, 'dist', 'index.js');
export const DEFAULT_TOKEN = 'ghs_TestToken0123456789abcdefABCDEF';

interface ActionYml {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string };
}

let actionYml: Promise<ActionYml> | undefined;
export function readActionYml(): Promise<ActionYml> {
  actionYml ??= readFile(join(ROOT, 'action.yml'), 'utf8').then((text) => parseYaml(text) as ActionYml);
  return actionYml;
}

export interface ActionRunOptions {
  /** Inputs as a workflow's `with:` gives them; action.yml defaults fill the rest, as the runner does. */
  readonly inputs: Record<string, string>;
  /** `github.token`, which the `github-token` default expands to. */
  readonly token?: string;
  /** GITHUB_EVENT_NAME and the event payload written to GITHUB_EVENT_PATH. @default push, {} */
  readonly event?: { readonly name: string; readonly payload: unknown };
  /** GITHUB_WORKSPACE (and the working directory). @default a fresh directory */
  readonly workspace?: string;
  readonly repository?: string;
  readonly apiUrl?: string;
  readonly env?: Record<string, string>;
  /** Told of the child process once it runs (to signal it mid-run). */
  readonly onSpawn?: (child: ChildProcess, output: () => string) => void;
}

export interface ActionRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** GITHUB_OUTPUT, parsed. */
  readonly outputs: Record<string, string>;
  /** The GITHUB_OUTPUT file as written. */
  readonly outputText: string;
  /** GITHUB_STEP_SUMMARY as written. */
  readonly summary: string;
  readonly workspace: string;
  readonly runnerTemp: string;
}

/**
 * Runs dist/index.js as the runner does for a `node24` action: a child `node` with `INPUT_<NAME>` variables (name
 * upper-cased, hyphens kept), the file commands GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, the event file, and
 * RUNNER_TEMP / GITHUB_WORKSPACE; HOME is empty, so no docker config of the machine leaks in.
 */
export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const base = await mkdtemp(join(tmpdir(), 'swr-action-'));
  const workspace = options.workspace ?? join(base, 'workspace');
  const runnerTemp = join(base, 'runner-temp');
  const home = join(base, 'home');
  await Promise.all([mkdir(workspace, { recursive: true }), mkdir(runnerTemp), mkdir(home)]);
  const files = {
    output: join(base, 'github_output'),
    summary: join(base, 'step_summary'),
    event: join(base, 'event.json'),
  };
  await Promise.all([
    writeFile(files.output, ''),
    writeFile(files.summary, ''),
    writeFile(files.event, JSON.stringify(options.event?.payload ?? {})),
  ]);

  const token = options.token ?? DEFAULT_TOKEN;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: options.event?.name ?? 'push',
    GITHUB_REPOSITORY: options.repository ?? 'acme/infra',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '4242',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    ...(options.apiUrl ? { GITHUB_API_URL: options.apiUrl } : {}),
  };
  const { inputs: declared } = await readActionYml();
  for (const [name, spec] of Object.entries(declared)) {
    const given = options.inputs[name];
    const value = given ?? (spec.default ?? '').replace(/\$\{\{\s*github\.token\s*\}\}/, token);
    if (value !== '') env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const name of Object.keys(options.inputs)) {
    if (!(name in declared)) throw new Error(`runAction: "${name}" is not an input of action.yml`);
  }
  Object.assign(env, options.env ?? {});

  const child = spawn(process.execPath, [DIST], { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  options.onSpawn?.(child, () => stdout);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const [outputText, summary] = await Promise.all([readFile(files.output, 'utf8'), readFile(files.summary, 'utf8')]);
  return { code, stdout, stderr, outputs: parseFileCommand(outputText), outputText, summary, workspace, runnerTemp };
}

/** The runner's file-command format: `name<<DELIMITER\nvalue\nDELIMITER\n`, or `name=value` lines. */
export function parseFileCommand(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      if (i >= lines.length) throw new Error(`GITHUB_OUTPUT: no closing delimiter for "${name}"`);
      result[name] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`GITHUB_OUTPUT: unexpected line ${JSON.stringify(line)}`);
    result[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return result;
}

/** `::error::` (and `::error title=...::`) annotations, unescaped. */
export function annotations(stdout: string, kind: 'error' | 'warning' | 'notice'): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${kind}`))
    .map((l) => unescape(l.slice(l.indexOf('::', 2) + 2)));
}

function unescape(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** What the run printed, apart from `::add-mask::` commands (the runner consumes those and never shows them). */
export function visibleStdout(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}
