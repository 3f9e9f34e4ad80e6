import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryClient, Transport } from '../../src/client/registry-client.js';
import { CopyEngine } from '../../src/engine/copy-engine.js';
import { parseReference } from '../../src/oci/reference.js';
import { formatImageLine } from '../../src/results/format.js';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  fetchManifest,
  freePort,
  ImageBuilder,
  listTags,
  pushImage,
  startBlobOrigin,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BlobOrigin,
  type BuiltIndex,
  type BuiltManifest,
  type Fault,
  type ProxiedRequest,
  type Proxy,
  type RegistryAuth,
  type RunningRegistry,
} from '../harness/index.js';
import { credentialsFor, runCli, type CliRun } from './support.js';

/**
 * The fault matrix (issue 8): every fault, in each of the three auth modes, between the engine and real registries.
 * For each: the run succeeds when the fault is transient (within the retries) or fails naming the image; then every
 * destination tag resolves to a complete image (every child manifest and blob present), and a rerun without the
 * fault reaches equality with the source. Most cases drive the engine in-process (fast backoff); two per mode run
 * the real CLI, with canary passwords checked against everything it prints or writes.
 */

type FaultFn = (r: ProxiedRequest) => Fault | undefined;

const MODES: RegistryAuth[] = ['none', 'basic', 'token'];
const RETRIES = 3;
const FAST_RETRY = { retries: RETRIES, baseDelayMs: 20, maxDelayMs: 200 };
const NAMES = ['app', 'multi'] as const;
type ImageName = (typeof NAMES)[number];
/** A JSON Web Token (the token servers' bearer tokens) anywhere in a text. */
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}/;

interface Side {
  registry: RunningRegistry;
  proxy: Proxy;
  /** What the client is given; for a registry without auth these are canaries it must never show either. */
  credential: { username: string; password: string };
  fault: FaultFn | undefined;
}

interface Ctx {
  mode: RegistryAuth;
  src: Side;
  dst: Side;
  origin: BlobOrigin;
  /** Every value that must never appear in output: passwords and the Basic strings made of them. */
  secrets: string[];
  /** Whether a request carries the client's credentials (always true without auth: there is no challenge). */
  authorized(r: ProxiedRequest): boolean;
  /** The challenge the destination answers an expired credential with. */
  challenge(): string;
}

interface Armed {
  src?: FaultFn;
  dst?: FaultFn;
  stallTimeoutMs?: number;
  /** Registries the faulted run talks to instead of the proxies (connection refused). */
  srcHost?: string;
  dstHost?: string;
  /** How often the fault was injected; a transient fault that never fired would prove nothing. */
  fired?: () => number;
  /** Checks against state captured when the fault was armed. */
  verify?: () => void;
}

interface FaultRun {
  results: ImageResult[];
  elapsedMs: number;
  retries: number;
}

interface FaultCase {
  name: string;
  arm(ctx: Ctx): Armed | Promise<Armed>;
  /** `copied`: transient, within the retries; otherwise which images fail, with which code and message. */
  expect: 'copied' | { failed: ImageName[]; code: string; message: (ctx: Ctx, armed: Armed) => RegExp };
  /** Every injected fault costs one counted retry (request or transfer). */
  retried?: boolean;
  check?(ctx: Ctx, run: FaultRun, armed: Armed): void | Promise<void>;
}

/** A fault for the first `times` requests that `match`; `fired` says how many got it. */
function injector(
  times: number,
  match: (r: ProxiedRequest) => boolean,
  fault: (r: ProxiedRequest, n: number) => Fault,
) {
  let fired = 0;
  return {
    fn: ((r) => (match(r) && fired < times ? fault(r, ++fired) : undefined)) as FaultFn,
    fired: () => fired,
  };
}

/** A fault for the first `times` requests of each key (a burst on every request, not just the first). */
function perKey(
  times: number,
  match: (r: ProxiedRequest) => boolean,
  key: (r: ProxiedRequest) => string,
  fault: (n: number) => Fault,
) {
  const seen = new Map<string, number>();
  let fired = 0;
  return {
    fn: ((r) => {
      if (!match(r)) return undefined;
      const n = (seen.get(key(r)) ?? 0) + 1;
      seen.set(key(r), n);
      if (n > times) return undefined;
      fired++;
      return fault(n);
    }) as FaultFn,
    fired: () => fired,
  };
}

function combine(...parts: Array<{ fn: FaultFn; fired: () => number }>): { fn: FaultFn; fired: () => number } {
  return {
    fn: (r) => {
      for (const p of parts) {
        const f = p.fn(r);
        if (f) return f;
      }
      return undefined;
    },
    fired: () => parts.reduce((n, p) => n + p.fired(), 0),
  };
}

const BLOB_GET = /\/blobs\/(sha256:[0-9a-f]{64})$/;
const digestIn = (r: ProxiedRequest) => BLOB_GET.exec(r.path)?.[1];
const isBlobGet = (r: ProxiedRequest) => r.method === 'GET' && digestIn(r) !== undefined;
const isBlobPut = (r: ProxiedRequest) =>
  r.method === 'PUT' && r.path.includes('/blobs/uploads/') && r.path.includes('digest=');
const isManifest = (method: string) => (r: ProxiedRequest) => r.method === method && r.path.includes('/manifests/');
const tooMany = (retryAfter?: string): Fault => ({
  status: 429,
  headers: { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) },
  body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limit exceeded"}]}',
});

describe('fault matrix: every fault in every auth mode', { timeout: 300_000 }, () => {
  let builder: ImageBuilder;
  let images: { app: BuiltManifest; multi: BuiltIndex };
  /** Layers (not configs) of both images; `big` is the one slow and corrupt faults target. */
  let layers: Set<string>;
  let big: { digest: string; size: number };
  const table: string[] = [];

  before(async () => {
    builder = await ImageBuilder.temporary();
    const app = await builder.image({
      format: 'oci',
      layers: [await builder.layer({ size: 48 * 1024 }), await builder.layer({ size: 16 * 1024 })],
    });
    const multi = await builder.multiArch({ format: 'docker', layerSize: 16 * 1024, sharedLayers: 1 });
    images = { app, multi };
    layers = new Set([...app.layers, ...multi.children.flatMap((c) => c.layers)].map((l) => l.digest));
    big = app.layers[0]!;
  });
  after(async () => {
    process.stdout.write(
      `# fault × auth mode → outcome (rerun: equality with the source)\n${table.map((l) => `# ${l}`).join('\n')}\n`,
    );
    await builder?.dispose();
  });

  const isLayerGet = (r: ProxiedRequest) => isBlobGet(r) && layers.has(digestIn(r)!);
  const isBigGet = (r: ProxiedRequest) => isBlobGet(r) && digestIn(r) === big.digest;

  const CASES: FaultCase[] = [
    {
      name: 'connection reset during a blob GET',
      arm: (ctx) => {
        const f = injector(
          2,
          (r) => ctx.authorized(r) && isLayerGet(r),
          () => ({ resetAfterBytes: 4096, hard: true }),
        );
        return { src: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: 'connection reset during a blob PUT',
      arm: (ctx) => {
        const f = injector(
          2,
          (r) => ctx.authorized(r) && isBlobPut(r),
          () => ({ reset: true }),
        );
        return { dst: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: 'truncated body',
      arm: (ctx) => {
        const f = injector(
          2,
          (r) => ctx.authorized(r) && isLayerGet(r),
          () => ({ resetAfterBytes: 1000 }),
        );
        return { src: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: 'bytes not matching the digest, once',
      arm: (ctx) => {
        const f = injector(
          1,
          (r) => ctx.authorized(r) && isBigGet(r),
          () => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'x'.repeat(big.size) }),
        );
        return { src: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: 'bytes not matching the digest, always',
      arm: (ctx) => {
        const f = injector(
          Infinity,
          (r) => ctx.authorized(r) && isBigGet(r),
          () => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'x'.repeat(big.size) }),
        );
        return { src: f.fn, fired: f.fired };
      },
      expect: {
        failed: ['app'],
        code: 'ERR_DIGEST_MISMATCH',
        message: () => new RegExp(`${big.digest}.*expected ${big.digest}`),
      },
      check: (_ctx, _run, armed) =>
        assert.equal(armed.fired!(), RETRIES + 1, 'read 1 + --retries times, then given up'),
    },
    {
      name: '429 with Retry-After on the manifest PUT',
      arm: (ctx) => {
        const f = injector(
          1,
          (r) => ctx.authorized(r) && isManifest('PUT')(r),
          () => tooMany('1'),
        );
        return { dst: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
      check: (_ctx, run) => assert.ok(run.elapsedMs >= 1000, `Retry-After: 1 was honoured (${run.elapsedMs} ms)`),
    },
    {
      name: '429 without Retry-After (blob GET, blob PUT, manifest HEAD and PUT)',
      arm: (ctx) => {
        const f = combine(
          injector(
            2,
            (r) => ctx.authorized(r) && isLayerGet(r),
            () => tooMany(),
          ),
        );
        const d = combine(
          injector(
            1,
            (r) => ctx.authorized(r) && isBlobPut(r),
            () => tooMany(),
          ),
          injector(
            1,
            (r) => ctx.authorized(r) && isManifest('HEAD')(r),
            () => tooMany(),
          ),
          injector(
            1,
            (r) => ctx.authorized(r) && isManifest('PUT')(r),
            () => tooMany(),
          ),
        );
        return { src: f.fn, dst: d.fn, fired: () => f.fired() + d.fired() };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: '500/502/503 burst on every manifest GET and PUT',
      arm: (ctx) => {
        const burst = (n: number): Fault => ({ status: [500, 502, 503][n - 1]!, body: 'upstream trouble' });
        const f = perKey(
          RETRIES,
          (r) => ctx.authorized(r) && isManifest('GET')(r),
          (r) => r.path,
          burst,
        );
        const d = perKey(
          RETRIES,
          (r) => ctx.authorized(r) && isManifest('PUT')(r),
          (r) => r.path,
          burst,
        );
        return { src: f.fn, dst: d.fn, fired: () => f.fired() + d.fired() };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: 'slow drip below the stall timeout',
      arm: (ctx) => {
        // 48 KiB at 4 KiB per 100 ms: 1.2 s in all, more than the stall timeout, never silent for as long.
        const f = injector(
          1,
          (r) => ctx.authorized(r) && isBigGet(r),
          () => ({ drip: { bytes: 4096, intervalMs: 100 } }),
        );
        return { src: f.fn, fired: f.fired, stallTimeoutMs: 500 };
      },
      expect: 'copied',
      check: (ctx, run) => {
        assert.ok(run.elapsedMs >= 1000, `the drip took its time (${run.elapsedMs} ms)`);
        assert.equal(
          ctx.src.proxy.requests.filter((r) => ctx.authorized(r) && isBigGet(r)).length,
          1,
          'a transfer that makes progress is not aborted',
        );
      },
    },
    {
      name: 'stall (no bytes for longer than the stall timeout)',
      arm: (ctx) => {
        const f = injector(
          1,
          (r) => ctx.authorized(r) && isBigGet(r),
          () => ({ stallAfterBytes: 1000 }),
        );
        return { src: f.fn, fired: f.fired, stallTimeoutMs: 500 };
      },
      expect: 'copied',
      retried: true,
      check: (ctx, run) => {
        assert.ok(run.elapsedMs >= 500, 'waited for the stall timeout');
        assert.equal(
          ctx.src.proxy.requests.filter((r) => ctx.authorized(r) && isBigGet(r)).length,
          2,
          'aborted and read again',
        );
      },
    },
    {
      name: 'upload session lost (404 on PUT)',
      arm: (ctx) => {
        const f = injector(
          2,
          (r) => ctx.authorized(r) && isBlobPut(r),
          () => ({
            status: 404,
            headers: { 'content-type': 'application/json' },
            body: '{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}',
          }),
        );
        return { dst: f.fn, fired: f.fired };
      },
      expect: 'copied',
      retried: true,
    },
    {
      name: '401 mid-run (credential expired) then recovery',
      arm: (ctx) => {
        const unauthorized = (): Fault => ({
          status: 401,
          headers: { 'www-authenticate': ctx.challenge(), 'content-type': 'application/json' },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        });
        const d = combine(
          injector(1, (r) => ctx.authorized(r) && isBlobPut(r), unauthorized),
          injector(1, (r) => ctx.authorized(r) && isManifest('PUT')(r), unauthorized),
        );
        const tokensBefore = ctx.dst.registry.tokenServer?.requests.length ?? 0;
        return {
          dst: d.fn,
          fired: d.fired,
          verify: () => {
            assert.equal(d.fired(), 2);
            if (ctx.mode === 'token')
              assert.ok(
                ctx.dst.registry.tokenServer!.requests.length - tokensBefore >= 3,
                'a new token after each 401',
              );
          },
        };
      },
      expect: 'copied',
    },
    {
      name: 'redirect of blob GETs to another origin',
      arm: (ctx) => {
        let fired = 0;
        const src: FaultFn = (r) => {
          const digest = ctx.authorized(r) && r.method === 'GET' ? digestIn(r) : undefined;
          if (!digest) return undefined;
          fired++;
          return {
            redirect: `${ctx.origin.url}/blobs/${digest.replace(':', '/')}?X-Signature=${randomBytes(6).toString('hex')}`,
          };
        };
        return { src, fired: () => fired };
      },
      expect: 'copied',
      check: (ctx) => {
        assert.ok(ctx.origin.requests.length >= 1, 'blobs were read from the other origin');
        assert.ok(
          ctx.origin.requests.every((r) => !r.authorization),
          'no credentials went to the other origin',
        );
      },
    },
    {
      name: '503 and 429 on the first request (the plain-HTTP probe of an insecure registry)',
      arm: () => {
        const f = injector(
          1,
          (r) => r.path === '/v2/',
          () => ({ status: 503, body: 'starting up' }),
        );
        const d = injector(
          1,
          (r) => r.path === '/v2/',
          () => tooMany(),
        );
        return { src: f.fn, dst: d.fn, fired: () => f.fired() + d.fired() };
      },
      expect: 'copied',
      check: (_ctx, _run, armed) => assert.equal(armed.fired!(), 2, 'both probes were refused, and plain HTTP kept'),
    },
    {
      name: 'connection refused (source)',
      arm: async () => ({ srcHost: `127.0.0.1:${await freePort()}` }),
      expect: {
        failed: ['app', 'multi'],
        code: 'ERR_REGISTRY_UNREACHABLE',
        message: (_ctx, armed) =>
          new RegExp(`registry ${armed.srcHost!.replace(/\./g, '\\.')} unreachable: ECONNREFUSED`),
      },
    },
    {
      name: 'connection refused (destination)',
      arm: async () => ({ dstHost: `127.0.0.1:${await freePort()}` }),
      expect: {
        failed: ['app', 'multi'],
        code: 'ERR_REGISTRY_UNREACHABLE',
        message: (_ctx, armed) =>
          new RegExp(`registry ${armed.dstHost!.replace(/\./g, '\\.')} unreachable: ECONNREFUSED`),
      },
    },
  ];

  for (const mode of MODES) {
    describe(`${mode} auth`, () => {
      const ctx = {} as Ctx;
      let dir: string;

      before(async () => {
        const canary = (role: string) => `CANARY-${role}-${mode}-${randomBytes(9).toString('hex')}`;
        const credential = (role: string) => ({ username: `user-${role}`, password: canary(role) });
        const srcCred = credential('src');
        const dstCred = credential('dst');
        const [src, dst] = await Promise.all([
          startRegistry({ auth: mode, tmpfs: true, ...(mode !== 'none' ? srcCred : {}) }),
          startRegistry({ auth: mode, tmpfs: true, ...(mode !== 'none' ? dstCred : {}) }),
        ]);
        const side = (registry: RunningRegistry, proxy: Proxy, cred: { username: string; password: string }): Side => ({
          registry,
          proxy,
          credential: cred,
          fault: undefined,
        });
        let srcSide: Side | undefined;
        let dstSide: Side | undefined;
        const [srcProxy, dstProxy, origin] = await Promise.all([
          startProxy({ target: src.url, fault: (r) => srcSide?.fault?.(r) }),
          startProxy({ target: dst.url, fault: (r) => dstSide?.fault?.(r) }),
          startBlobOrigin(builder),
        ]);
        srcSide = side(src, srcProxy, srcCred);
        dstSide = side(dst, dstProxy, dstCred);
        Object.assign(ctx, {
          mode,
          src: srcSide,
          dst: dstSide,
          origin,
          secrets: [srcCred, dstCred].flatMap((c) => [
            c.password,
            Buffer.from(`${c.username}:${c.password}`).toString('base64'),
          ]),
          authorized: (r: ProxiedRequest) => mode === 'none' || r.authorization !== undefined,
          challenge: () =>
            mode === 'token' ? `Bearer realm="${dst.tokenServer!.url}",service="test-registry"` : 'Basic realm="test"',
        } satisfies Ctx);
        await Promise.all([
          pushImage(src, 'lib/app', 'v1', images.app, builder),
          pushImage(src, 'lib/multi', 'v1', images.multi, builder),
        ]);
        dir = await mkdtemp(join(tmpdir(), `swr-fault-matrix-${mode}-`));
        await writeFile(
          join(dir, 'auth.json'),
          JSON.stringify({
            [srcProxy.host]: { username: srcCred.username, password: '${SRC_PASSWORD}', insecure: true },
            [dstProxy.host]: { username: dstCred.username, password: '${DST_PASSWORD}', insecure: true },
          }),
        );
      });
      after(async () => {
        await Promise.all([ctx.src?.proxy.stop(), ctx.dst?.proxy.stop(), ctx.origin?.stop()]);
        await Promise.all([ctx.src?.registry.stop(), ctx.dst?.registry.stop()]);
      });

      const clearFaults = () => {
        ctx.src.fault = undefined;
        ctx.dst.fault = undefined;
        ctx.src.proxy.reset();
        ctx.dst.proxy.reset();
        ctx.origin.requests.length = 0;
      };

      /** Both images into `<slug>/app` and `<slug>/multi`, at once, with one engine (as a sync's workers share it). */
      async function copyBoth(slug: string, armed: Armed = {}): Promise<FaultRun> {
        const transport = new Transport(
          armed.stallTimeoutMs !== undefined ? { stallTimeoutMs: armed.stallTimeoutMs } : {},
        );
        const common = { transport, retry: FAST_RETRY, insecure: () => true };
        const srcHost = armed.srcHost ?? ctx.src.proxy.host;
        const dstHost = armed.dstHost ?? ctx.dst.proxy.host;
        const source = new RegistryClient({
          credentials: credentialsFor({ host: ctx.src.proxy.host, ...ctx.src.credential }),
          ...common,
        });
        const destination = new RegistryClient({
          credentials: credentialsFor({ host: ctx.dst.proxy.host, ...ctx.dst.credential }),
          ...common,
        });
        try {
          const engine = new CopyEngine({ source, destination });
          const started = Date.now();
          const results = await Promise.all(
            NAMES.map((name) =>
              engine.copy(parseReference(`${srcHost}/lib/${name}:v1`), parseReference(`${dstHost}/${slug}/${name}:v1`)),
            ),
          );
          return { results, elapsedMs: Date.now() - started, retries: source.retryCount + destination.retryCount };
        } finally {
          await transport.close();
        }
      }

      /** Every tag in the case's destination repositories is a complete copy of its source image; returns the tags. */
      async function assertNoIncompleteTag(slug: string): Promise<Record<ImageName, string[]>> {
        const found = {} as Record<ImageName, string[]>;
        for (const name of NAMES) {
          found[name] = await listTags(ctx.dst.registry, `${slug}/${name}`);
          for (const tag of found[name]) {
            const check = await verifyImageComplete(ctx.dst.registry, `${slug}/${name}`, tag);
            assert.deepEqual(check.missing, [], `${slug}/${name}:${tag} resolves to a complete image`);
            assert.equal(check.digest, images[name].digest);
          }
        }
        return found;
      }

      /** The destination holds exactly the source's tags with the source's digests, complete. */
      async function assertEquality(slug: string): Promise<void> {
        for (const name of NAMES) {
          const tags = (await listTags(ctx.src.registry, `lib/${name}`)).sort();
          assert.deepEqual((await listTags(ctx.dst.registry, `${slug}/${name}`)).sort(), tags);
          for (const tag of tags) {
            const [a, b] = await Promise.all([
              fetchManifest(ctx.src.registry, `lib/${name}`, tag),
              fetchManifest(ctx.dst.registry, `${slug}/${name}`, tag),
            ]);
            assert.equal(b.digest, a.digest, `${slug}/${name}:${tag} equals the source`);
            assert.deepEqual((await verifyImageComplete(ctx.dst.registry, `${slug}/${name}`, tag)).missing, []);
          }
        }
      }

      const assertNoSecret = (what: string, text: string) => {
        for (const secret of ctx.secrets) assert.ok(!text.includes(secret), `${what} shows a secret`);
        assert.doesNotMatch(text, JWT, `${what} shows a token`);
      };

      for (const c of CASES) {
        test(c.name, async () => {
          const slug = `fault-${CASES.indexOf(c)}`;
          clearFaults();
          const armed = await c.arm(ctx);
          ctx.src.fault = armed.src;
          ctx.dst.fault = armed.dst;
          let run: FaultRun;
          try {
            run = await copyBoth(slug, armed);
          } finally {
            ctx.src.fault = undefined;
            ctx.dst.fault = undefined;
          }
          assertNoSecret('a result', JSON.stringify(run.results));

          if (c.expect === 'copied') {
            for (const r of run.results) assert.equal(r.status, 'copied', formatImageLine(r));
            if (armed.fired) assert.ok(armed.fired() > 0, 'the fault was injected');
            if (c.retried)
              assert.ok(
                run.retries >= armed.fired!(),
                `every fault cost a retry and was counted (${run.retries} retries for ${armed.fired!()} faults)`,
              );
          } else {
            const expected = c.expect;
            for (const [i, name] of NAMES.entries()) {
              const r = run.results[i]!;
              if (!expected.failed.includes(name)) {
                assert.equal(r.status, 'copied', formatImageLine(r));
                continue;
              }
              assert.equal(r.status, 'failed', formatImageLine(r));
              assert.equal(r.error?.code, expected.code, formatImageLine(r));
              assert.match(r.error!.message, expected.message(ctx, armed));
              // The line a user reads names the image on both sides.
              assert.ok(formatImageLine(r).startsWith(`failed     ${r.source} -> ${r.destination}: `));
              assert.match(r.source, new RegExp(`/lib/${name}:v1$`));
            }
          }
          await c.check?.(ctx, run, armed);
          armed.verify?.();

          const present = await assertNoIncompleteTag(slug);
          if (c.expect !== 'copied')
            for (const name of c.expect.failed) assert.deepEqual(present[name], [], `no tag for the failed ${name}`);

          clearFaults();
          const rerun = await copyBoth(slug);
          for (const r of rerun.results) assert.notEqual(r.status, 'failed', formatImageLine(r));
          await assertEquality(slug);
          const outcome =
            c.expect === 'copied'
              ? `copied (${run.retries} retries)`
              : `failed ${c.expect.failed.join('+')} ${c.expect.code}`;
          table.push(`| ${c.name} | ${mode} | ${outcome} | rerun: equal |`);
        });
      }

      async function cliSync(slug: string, extra: string[] = []): Promise<CliRun & { log: string }> {
        const images = join(dir, `${slug}.json`);
        await writeFile(
          images,
          JSON.stringify(
            Object.fromEntries(
              NAMES.map((name) => [`${ctx.src.proxy.host}/lib/${name}:v1`, `${ctx.dst.proxy.host}/${slug}/${name}:v1`]),
            ),
          ),
        );
        const log = join(dir, `${slug}.log`);
        const run = await runCli(
          ['sync', '--auth', join(dir, 'auth.json'), '--images', images, '--log', log, ...extra],
          {
            env: { SRC_PASSWORD: ctx.src.credential.password, DST_PASSWORD: ctx.dst.credential.password },
          },
        );
        const text = await readFile(log, 'utf8');
        for (const [what, value] of [
          ['stdout', run.stdout],
          ['stderr', run.stderr],
          ['the log file', text],
        ] as const)
          assertNoSecret(what, value);
        return { ...run, log: text };
      }

      test('through the CLI: transient faults within --retries, reported in --json and the log, no secret shown', async () => {
        clearFaults();
        const s = injector(
          1,
          (r) => ctx.authorized(r) && isLayerGet(r),
          () => ({ resetAfterBytes: 1000 }),
        );
        const d = combine(
          injector(
            1,
            (r) => ctx.authorized(r) && isBlobPut(r),
            () => ({ reset: true }),
          ),
          injector(
            1,
            (r) => ctx.authorized(r) && isManifest('PUT')(r),
            () => tooMany(),
          ),
        );
        ctx.src.fault = s.fn;
        ctx.dst.fault = d.fn;
        let run: Awaited<ReturnType<typeof cliSync>>;
        try {
          run = await cliSync('cli-transient', ['--json']);
        } finally {
          clearFaults();
        }
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.equal(s.fired() + d.fired(), 3, 'every fault was injected');
        const out = JSON.parse(run.stdout) as { summary: { copied: number; failed: number; retries: number } };
        assert.equal(out.summary.copied, 2);
        assert.equal(out.summary.failed, 0);
        assert.ok(out.summary.retries >= 3, `the retries are reported (${out.summary.retries})`);
        assert.match(run.log, new RegExp(`retries: ${out.summary.retries} requests or transfers were tried again`));
        await assertNoIncompleteTag('cli-transient');
        const rerun = await cliSync('cli-transient', ['--json']);
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        assert.equal((JSON.parse(rerun.stdout) as { summary: { unchanged: number } }).summary.unchanged, 2);
        await assertEquality('cli-transient');
        table.push(
          `| CLI: truncated GET + reset PUT + 429 manifest PUT | ${mode} | exit 0, ${out.summary.retries} retries reported | rerun: unchanged, equal |`,
        );
      });

      test('through the CLI: a corrupt layer fails its image by name (exit 1), the rest completes, the rerun finishes', async () => {
        clearFaults();
        const s = injector(
          Infinity,
          (r) => ctx.authorized(r) && isBigGet(r),
          () => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'x'.repeat(big.size) }),
        );
        ctx.src.fault = s.fn;
        let run: Awaited<ReturnType<typeof cliSync>>;
        try {
          run = await cliSync('cli-corrupt', ['--retries', '2']);
        } finally {
          clearFaults();
        }
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.equal(s.fired(), 3, '1 + --retries 2 reads');
        const line = `failed     ${ctx.src.proxy.host}/lib/app:v1 -> ${ctx.dst.proxy.host}/cli-corrupt/app:v1: `;
        assert.ok(run.stdout.includes(line), run.stdout);
        assert.match(run.stdout, new RegExp(`${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*${big.digest}`));
        assert.match(run.stdout, /Images\(2\) migration finished, 1 images tasks failed, 0 tasks generate failed/);
        assert.match(run.log, /failed .*\/lib\/app:v1 -> .*error=ERR_DIGEST_MISMATCH/);
        const present = await assertNoIncompleteTag('cli-corrupt');
        assert.deepEqual(present.app, []);
        assert.deepEqual(present.multi, ['v1']);
        const rerun = await cliSync('cli-corrupt');
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        await assertEquality('cli-corrupt');
        table.push(
          `| CLI: corrupt layer (always) | ${mode} | exit 1, app failed ERR_DIGEST_MISMATCH, multi copied | rerun: exit 0, equal |`,
        );
      });
    });
  }
});
