import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  ImageBuilder,
  pushImage,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type Fault,
  type ProxiedRequest,
  type Proxy,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, type CliRun } from './support.js';

interface SyncJson {
  summary: { copied: number; failed: number };
  images: ImageResult[];
}

/**
 * `--rate`, `--bandwidth`, the mirror spec's `registries` and quota pacing, observed on the wire: counting proxies
 * in front of both registries record when each request arrives. Only lower bounds on time are checked (what the
 * limits promise), never how fast a run is.
 */
describe('rate and bandwidth limits (through counting proxies)', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let srcProxy: Proxy;
  let dstProxy: Proxy;
  let builder: ImageBuilder;
  let dir: string;
  let authFile: string;
  let srcFault: ((r: ProxiedRequest) => Fault | undefined) | undefined;
  let big: BuiltManifest;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'none' }),
      startRegistry({ auth: 'none' }),
      ImageBuilder.temporary(),
    ]);
    [srcProxy, dstProxy] = await Promise.all([
      startProxy({ target: src.url, fault: (r) => srcFault?.(r) }),
      startProxy({ target: dst.url }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-limits-'));
    authFile = join(dir, 'auth.json');
    await writeFile(
      authFile,
      JSON.stringify({ [srcProxy.host]: { insecure: true }, [dstProxy.host]: { insecure: true } }),
    );
    const small = () => builder.image({ format: 'oci', layers: 2, layerSize: 4 * 1024 });
    big = await builder.image({ format: 'oci', layers: 1, layerSize: 6_000_000 });
    const pushes: Array<Promise<void>> = [pushImage(src, 'big/app', 'v1', big, builder)];
    for (let i = 0; i < 10; i++) pushes.push(pushImage(src, 'rate/app', `t${i}`, await small(), builder));
    for (let i = 0; i < 4; i++) pushes.push(pushImage(src, 'quota/app', `q${i}`, await small(), builder));
    for (let i = 0; i < 2; i++) pushes.push(pushImage(src, 'spec/app', `s${i}`, await small(), builder));
    pushes.push(
      pushImage(
        src,
        'slow/app',
        'v1',
        await builder.image({ format: 'oci', layers: 1, layerSize: 300 * 1024 }),
        builder,
      ),
    );
    await Promise.all(pushes);
  });
  after(async () => {
    await Promise.all([srcProxy?.stop(), dstProxy?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });
  beforeEach(() => {
    srcFault = undefined;
    srcProxy.reset();
    dstProxy.reset();
  });

  async function sync(
    images: unknown,
    extra: string[],
    name: string,
  ): Promise<{ run: CliRun; out: SyncJson; log: string; elapsedMs: number }> {
    const imagesFile = join(dir, `${name}.json`);
    const logFile = join(dir, `${name}.log`);
    await writeFile(imagesFile, JSON.stringify(images, null, 2));
    const started = Date.now();
    const run = await runCli(['--auth', authFile, '--images', imagesFile, '--log', logFile, '--json', ...extra]);
    const elapsedMs = Date.now() - started;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    return { run, out: parseJsonOutput<SyncJson>(run), log: await readFile(logFile, 'utf8'), elapsedMs };
  }

  /** Requests to one host never outrun a bucket of `rate` per second holding `burst`: checked from the arrivals. */
  function assertPaced(proxy: Proxy, rate: number, burst: number, what: string): void {
    const times = proxy.requests.map((r) => r.at).sort((a, b) => a - b);
    const n = times.length;
    const span = times[n - 1]! - times[0]!;
    // The k-th request (k > burst) leaves no earlier than (k - burst) / rate s after the first. The arrivals can be
    // closer than the departures by the first request's connection set-up (a TCP connect through the proxy, which
    // a loaded 2-core machine has been seen to delay by 140 ms): 250 ms for the wire. The one-second windows below
    // bound the rate independently of any single arrival.
    const least = ((n - burst) / rate) * 1000 - 250;
    assert.ok(
      span >= least,
      `${what}: ${n} requests arrived within ${span} ms; at ${rate}/s with a burst of ${burst} that takes at least ${least} ms`,
    );
    for (let i = 0; i < n; i++) {
      const inSecond = times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length;
      assert.ok(inSecond <= burst + rate + 3, `${what}: ${inSecond} requests within one second from the ${i}th`);
    }
  }

  test('--rate 20: each registry host gets at most 20 requests a second after a burst of 20', async () => {
    const { out } = await sync(
      { [`${srcProxy.host}/rate/app`]: `${dstProxy.host}/rate/app` },
      ['--rate', '20'],
      'rate',
    );
    assert.equal(out.summary.copied, 10);
    assert.ok(srcProxy.requests.length >= 40, `source requests: ${srcProxy.requests.length}`);
    assert.ok(dstProxy.requests.length >= 70, `destination requests: ${dstProxy.requests.length}`);
    assertPaced(srcProxy, 20, 20, 'source');
    assertPaced(dstProxy, 20, 20, 'destination');
    for (let i = 0; i < 10; i++) assert.deepEqual((await verifyImageComplete(dst, 'rate/app', `t${i}`)).missing, []);
  });

  test('mirror spec "registries" overrides --rate for that registry', async () => {
    const spec = {
      version: 1,
      images: [{ source: `${srcProxy.host}/spec/app`, destination: `${dstProxy.host}/spec/app` }],
      registries: { [dstProxy.host]: { rate: 5 } },
    };
    const { out } = await sync(spec, ['--rate', '1000'], 'spec');
    assert.equal(out.summary.copied, 2);
    assert.ok(dstProxy.requests.length >= 14, `destination requests: ${dstProxy.requests.length}`);
    assertPaced(dstProxy, 5, 5, "destination at the spec's rate 5");
  });

  test('copy --bandwidth 2M: a 6 MB image takes at least 2.5 s, and arrives whole', async () => {
    const started = Date.now();
    const run = await runCli([
      'copy',
      '--auth',
      authFile,
      '--bandwidth',
      '2M',
      `${srcProxy.host}/big/app:v1`,
      `${dstProxy.host}/big/app:v1`,
      '--json',
    ]);
    const elapsed = Date.now() - started;
    assert.equal(run.code, 0, run.stderr + run.stdout);
    // 6 MB at 2 MB/s each way (download and upload overlap), less a 200 kB burst: about 2.9 s.
    assert.ok(elapsed >= 2500, `copied 6 MB in ${elapsed} ms at --bandwidth 2M`);
    const check = await verifyImageComplete(dst, 'big/app', 'v1');
    assert.equal(check.digest, big.digest);
    assert.deepEqual(check.missing, []);
  });

  test('a paced download longer than --stall-timeout is not taken for a stall', async () => {
    // 300 KiB at 100 kB/s: about 3 s of a body the client reads slowly, with a 1 s stall timeout.
    const { out, elapsedMs } = await sync(
      { [`${srcProxy.host}/slow/app:v1`]: `${dstProxy.host}/slow/app:v1` },
      ['--bandwidth', '100k', '--stall-timeout', '1s'],
      'slow',
    );
    assert.equal(out.summary.copied, 1);
    assert.ok(elapsedMs >= 2500, `300 KiB in ${elapsedMs} ms at 100 kB/s`);
    const layerGets = srcProxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    assert.equal(layerGets.length, 2, 'config and layer read once each: no retry after a false stall');
    assert.deepEqual((await verifyImageComplete(dst, 'slow/app', 'v1')).missing, []);
  });

  test('Docker Hub quota headers: manifest GETs are paced when few are left, a 429 is waited out, and the log says so', async () => {
    const quota = { 'ratelimit-limit': '4;w=2', 'ratelimit-remaining': '2;w=2' };
    let manifestGets = 0;
    srcFault = (r) => {
      if (r.method !== 'GET' || !r.path.includes('/manifests/')) return undefined;
      manifestGets++;
      if (manifestGets === 3) {
        const body = JSON.stringify({
          errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }],
        });
        return {
          status: 429,
          headers: { 'content-type': 'application/json', 'ratelimit-limit': '4;w=2', 'ratelimit-remaining': '0;w=2' },
          body,
        };
      }
      return { addHeaders: quota };
    };
    const { out, log, run } = await sync(
      { [`${srcProxy.host}/quota/app`]: `${dstProxy.host}/quota/app` },
      ['--workers', '2'],
      'quota',
    );
    assert.equal(out.summary.copied, 4);
    for (let i = 0; i < 4; i++) assert.deepEqual((await verifyImageComplete(dst, 'quota/app', `q${i}`)).missing, []);

    const gets = srcProxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/manifests/'));
    assert.equal(gets.length, 5, 'four images, one GET retried after the 429');
    const times = gets.map((r) => r.at).sort((a, b) => a - b);
    // The first two went out together, before any quota was known; the third is the first paced one. From then
    // on: 2 left in a 2 s window is one GET a second, and the 429 (window 2 s) holds the host for 2 s.
    for (let i = 3; i < times.length; i++) {
      assert.ok(
        times[i]! - times[i - 1]! >= 800,
        `manifest GET ${i} came ${times[i]! - times[i - 1]!} ms after the one before`,
      );
    }
    const refused = gets.find((r) => r.status === 429)!;
    const retried = gets.find((r) => r.path === refused.path && r !== refused)!;
    assert.ok(retried.at - refused.at >= 1800, `retried ${retried.at - refused.at} ms after the 429`);

    const host = srcProxy.host.replace(/\./g, '\\.');
    const low = log
      .split('\n')
      .filter((l) =>
        new RegExp(`pacing: ${host} reports ratelimit-remaining 2 in a window of 2 s .*spaced 1\\.0 s apart`).test(l),
      );
    const exhausted = log
      .split('\n')
      .filter((l) =>
        new RegExp(
          `pacing: ${host} answered 429 Too Many Requests \\(ratelimit-remaining 0 in a window of 2 s\\): waiting 2\\.0 s`,
        ).test(l),
      );
    assert.equal(low.length, 1, `one line about pacing in:\n${log}`);
    assert.equal(exhausted.length, 1, `one line about the 429 in:\n${log}`);
    assert.match(run.stderr, /swr-sync: pacing: .* answered 429/);
  });

  test('bad limits are input errors (exit 2) naming the flag or the file and key', async () => {
    const rate = await runCli(['--rate', '0']);
    assert.equal(rate.code, 2);
    assert.match(rate.stderr, /--rate must be a positive number of requests per second/);
    const bandwidth = await runCli(['copy', 'a.example/x:1', 'b.example/x:1', '--bandwidth', '10Mb']);
    assert.equal(bandwidth.code, 2);
    assert.match(
      bandwidth.stderr,
      /--bandwidth must be a number of bytes per second, optionally with a unit: k, M, G \(powers of 1000\) or Ki, Mi, Gi \(powers of 1024\)/,
    );
    const plan = await runCli(['plan', '--bandwidth', '1M']);
    assert.equal(plan.code, 2, 'plan sends no blobs: it has --rate only');
    assert.match(plan.stderr, /unknown option '--bandwidth'/);

    const specFile = join(dir, 'bad-limits.json');
    await writeFile(
      specFile,
      JSON.stringify({
        version: 1,
        images: [{ source: `${srcProxy.host}/spec/app`, destination: `${dstProxy.host}/spec/app` }],
        registries: { 'docker.io': { rate: -1 }, [srcProxy.host]: { bandwidth: 'fast' } },
      }),
    );
    const spec = await runCli(['--auth', authFile, '--images', specFile]);
    assert.equal(spec.code, 2);
    assert.ok(
      spec.stderr.includes(`${specFile}: "registries.docker.io.rate" must be a positive number of requests per second`),
      spec.stderr,
    );
    assert.ok(
      spec.stderr.includes(`${specFile}: "registries.${srcProxy.host}.bandwidth" must be a number of bytes per second`),
      spec.stderr,
    );
    assert.equal(srcProxy.requests.length + dstProxy.requests.length, 0, 'nothing was sent');
  });
});
