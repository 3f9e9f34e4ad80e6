import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageResult } from '../../src/engine/image-result.js';
import { sha256, startHostileRegistry, type HostileRegistry } from '../harness/index.js';
import { runCli, type CliRun } from './support.js';

/**
 * What every hostile-registry case checks (docs/security.md): the outcome, the other images of the run, nothing
 * written outside the intended place, no secret anywhere the run writes, and the peak RSS of the CLI process.
 */

/** The budget every attack must stay under on a 2-core machine. */
export const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
export const CANARY_USER = 'canary';
export const CANARY_PASSWORD = 'canary-password-5d1f0b2a';
export const CANARY_BASIC = Buffer.from(`${CANARY_USER}:${CANARY_PASSWORD}`).toString('base64');
export const CANARY_TOKEN = 'canary-token-7a9e44c0d1';

export interface SyncJson {
  summary: { images: number; copied: number; unchanged: number; failed: number; generateFailed: number };
  images: ImageResult[];
  generateFailures: Array<{ source: string; error: { code: string; message: string } }>;
  warnings: string[];
}

export interface HostileRun {
  readonly run: CliRun;
  readonly json: SyncJson;
  /** The --log file. */
  readonly log: string;
  /** The lock file, as written. */
  readonly lock: string;
  readonly dir: string;
  readonly rss: number;
  result(destinationSuffix: string): ImageResult;
}

/** Peak RSS per case, printed at the end of the suite (the figures of docs/security.md). */
export const rssTable: Array<{ name: string; rss: number; seconds: number }> = [];

/**
 * `swr-sync sync --json --log --lock` over `images`, every registry named in `hosts` marked insecure (plain HTTP
 * or unverified TLS) and given the canary credentials unless `anonymous` lists it.
 */
export async function hostileSync(
  name: string,
  images: Record<string, string | string[]>,
  options: {
    hosts: readonly string[];
    anonymous?: readonly string[];
    args?: readonly string[];
    env?: Record<string, string>;
    /** auth.json entries replacing the default ones. */
    auth?: Record<string, unknown>;
    expectCode?: number;
  } = { hosts: [] },
): Promise<HostileRun> {
  const dir = await mkdtemp(join(tmpdir(), 'swr-hostile-'));
  const auth: Record<string, unknown> = {};
  for (const host of options.hosts) {
    auth[host] = options.anonymous?.includes(host)
      ? { insecure: true }
      : { username: CANARY_USER, password: '${CANARY_PASSWORD}', insecure: true };
  }
  Object.assign(auth, options.auth ?? {});
  await writeFile(join(dir, 'auth.json'), JSON.stringify(auth));
  await writeFile(join(dir, 'images.json'), JSON.stringify(images));
  const started = Date.now();
  const run = await runCli(
    [
      'sync',
      '--auth',
      join(dir, 'auth.json'),
      '--images',
      join(dir, 'images.json'),
      '--json',
      '--log',
      join(dir, 'run.log'),
      '--lock',
      join(dir, 'lock.json'),
      ...(options.args ?? []),
    ],
    {
      env: { CANARY_PASSWORD, ...options.env },
      measureRss: true,
    },
  );
  const seconds = (Date.now() - started) / 1000;
  rssTable.push({ name, rss: run.maxRssBytes ?? 0, seconds });
  assert.equal(run.code, options.expectCode ?? 1, `${name}: exit status\n${run.stderr}\n${run.stdout.slice(0, 4000)}`);
  assert.doesNotMatch(run.stderr, /Unhandled 'error' event|Maximum call stack|heap out of memory|EMFILE/, run.stderr);
  let json: SyncJson;
  try {
    json = JSON.parse(run.stdout) as SyncJson;
  } catch {
    throw new Error(`${name}: no --json result on stdout:\n${run.stdout.slice(0, 2000)}\nstderr:\n${run.stderr}`);
  }
  const log = await readFile(join(dir, 'run.log'), 'utf8').catch(() => '');
  const lock = await readFile(join(dir, 'lock.json'), 'utf8').catch(() => '');
  assert.match(log, /migration finished|images? tasks/, `${name}: the log is complete`);
  assert.notEqual(lock, '', `${name}: the lock file is written`);
  assertNoSecret(name, { stdout: run.stdout, stderr: run.stderr, log, lock });
  assert.ok((run.maxRssBytes ?? 0) < RSS_LIMIT_BYTES, `${name}: peak RSS ${mib(run.maxRssBytes ?? 0)} MiB`);
  return {
    run,
    json,
    log,
    lock,
    dir,
    rss: run.maxRssBytes ?? 0,
    result(suffix) {
      const found = json.images.find((r) => r.destination.endsWith(suffix));
      assert.ok(found, `${name}: no result for *${suffix} in ${json.images.map((r) => r.destination).join(', ')}`);
      return found;
    },
  };
}

export function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

/** No canary secret in any of `texts`, nor terminal escapes. */
export function assertNoSecret(name: string, texts: Record<string, string>): void {
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of [CANARY_PASSWORD, CANARY_BASIC, CANARY_TOKEN]) {
      assert.equal(text.includes(secret), false, `${name}: a secret in ${where}`);
    }
    assert.equal(text.includes('\u001b'), false, `${name}: a terminal escape in ${where}`);
  }
}

/** A failed result whose error names the image and has `code`. */
export function assertFailed(result: ImageResult, code: string, message?: RegExp): void {
  assert.equal(result.status, 'failed', JSON.stringify(result));
  assert.equal(result.error?.code, code, JSON.stringify(result.error));
  if (message) assert.match(result.error!.message, message);
}

/**
 * A write-only registry that accepts every upload and manifest and keeps nothing: a destination for attacks where
 * the copy must succeed with bounded memory (fan-out, many configs) without storing hundreds of MiB.
 */
export async function startSink(): Promise<HostileRegistry & { manifestsPut: number }> {
  let uploads = 0;
  const sink = (await startHostileRegistry({
    handle(req, res, request) {
      const path = request.url.pathname;
      if (path === '/v2/' || path === '/v2') return false;
      if (req.method === 'HEAD') return answer(res, 404);
      if (req.method === 'POST' && /\/blobs\/uploads\/$/.test(path)) {
        res.writeHead(202, { location: `/upload/${++uploads}`, 'content-length': '0' });
        res.end();
        return true;
      }
      if (req.method === 'PUT' && path.startsWith('/upload/')) return answer(res, 201);
      if (req.method === 'PATCH' && path.startsWith('/upload/')) {
        res.writeHead(202, { location: path, 'content-length': '0' });
        res.end();
        return true;
      }
      if (req.method === 'PUT' && /\/manifests\//.test(path)) {
        const parts: Buffer[] = [];
        req.removeAllListeners('data');
        req.on('data', (c: Buffer) => parts.push(c));
        req.on('end', () => {
          sink.manifestsPut++;
          res.writeHead(201, { 'docker-content-digest': sha256(Buffer.concat(parts)), 'content-length': '0' });
          res.end();
        });
        req.resume();
        return true;
      }
      if (req.method === 'GET' && /\/referrers\//.test(path)) return answer(res, 404);
      return answer(res, 404);
    },
  })) as HostileRegistry & { manifestsPut: number };
  sink.manifestsPut = 0;
  return sink;
}

function answer(res: ServerResponse, status: number): true {
  res.writeHead(status, { 'content-length': '0' });
  res.end();
  return true;
}

/** Names of the files in `dir` and below, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}
