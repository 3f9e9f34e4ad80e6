import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CredentialSource, RegistryAccess } from '../../src/config/credentials.js';
import type { RunningRegistry } from '../harness/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled CLI (package.json `bin`, built by `npm run build`), run as users run it. */
export const CLI = resolve(here, '../../bin/swr-sync.js');
const RSS_PRELOAD = resolve(here, 'report-rss.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the CLI process, when measured. */
  maxRssBytes?: number;
}

/** Runs `swr-sync` as a child process with an isolated HOME (no user docker config leaks in). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string; measureRss?: boolean } = {},
): Promise<CliRun> {
  const home = await mkdtemp(join(tmpdir(), 'swr-sync-home-'));
  const rssFile = join(home, 'rss');
  const nodeArgs = options.measureRss ? ['--import', new URL(`file://${RSS_PRELOAD}`).href] : [];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ...(process.env.TEST_NODE_OPTIONS ? { NODE_OPTIONS: process.env.TEST_NODE_OPTIONS } : {}),
  };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  if (options.measureRss) env.SWR_SYNC_RSS_REPORT = rssFile;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    env,
    cwd: home,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const run: CliRun = { code, stdout, stderr };
  if (options.measureRss) {
    const { readFile } = await import('node:fs/promises');
    run.maxRssBytes = Number(await readFile(rssFile, 'utf8'));
  }
  return run;
}

/** An auth.json (image-migrator format) for the given registries, passwords referenced as ${VAR} from `env`. */
export async function writeAuthJson(
  registries: RunningRegistry[],
  options: { wrongPassword?: boolean } = {},
): Promise<{ file: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'swr-sync-auth-'));
  const auth: Record<string, { username?: string; password?: string; insecure: boolean }> = {};
  const env: Record<string, string> = {};
  registries.forEach((r, i) => {
    if (r.username && r.password) {
      env[`REG_PASSWORD_${i}`] = options.wrongPassword ? `${r.password}-wrong` : r.password;
      auth[r.host] = { username: r.username, password: `\${REG_PASSWORD_${i}}`, insecure: true };
    } else {
      auth[r.host] = { insecure: true };
    }
  });
  const file = join(dir, 'auth.json');
  await writeFile(file, JSON.stringify(auth, null, 2));
  return { file, env };
}

/** Credentials for library-level tests: exact host → the registry's test user, plain HTTP allowed. */
export function credentialsFor(
  ...registries: Array<{ host: string; username?: string | undefined; password?: string | undefined }>
): CredentialSource {
  return {
    async lookup(registry: string): Promise<RegistryAccess | undefined> {
      const r = registries.find((x) => x.host === registry);
      if (!r) return undefined;
      return r.username && r.password
        ? {
            credential: { username: r.username, password: r.password },
            insecure: true,
            source: `test credentials for ${r.host}`,
          }
        : { insecure: true, source: `test entry for ${r.host}` };
    },
  };
}

/** A registry as seen through a proxy: same credentials, the proxy's host. */
export function via(
  registry: RunningRegistry,
  proxy: { host: string },
): { host: string; username?: string | undefined; password?: string | undefined } {
  return { host: proxy.host, username: registry.username, password: registry.password };
}

export function parseJsonOutput<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout, got:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
