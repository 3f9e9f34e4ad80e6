import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { openJob, syncJob } from '../../src/job/job.js';
import {
  ImageBuilder,
  pushImage,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type ProxiedRequest,
  type Proxy,
  type RunningRegistry,
} from '../harness/index.js';

/** A TCP relay in front of a proxy that counts the connections opened through it. */
async function connectionCounter(
  targetPort: number,
): Promise<{ host: string; connections: () => number; stop: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((client) => {
    count++;
    client.unref();
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    connections: () => count,
    stop: async () => {
      server.close();
      server.unref();
    },
  };
}

/**
 * The no-change rerun (issue 7): with a lock file, one source HEAD per tag decides and the destination is not asked;
 * HEADs reuse keep-alive connections (undici would close one per HEAD).
 */
describe('warm rerun (token auth, through counting proxies)', () => {
  const TAGS = 12;
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let srcProxy: Proxy;
  let dstProxy: Proxy;
  let builder: ImageBuilder;
  let images: BuiltManifest[];
  let dir: string;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'token' }),
      startRegistry({ auth: 'token' }),
      ImageBuilder.temporary(),
    ]);
    [srcProxy, dstProxy] = await Promise.all([startProxy({ target: src.url }), startProxy({ target: dst.url })]);
    images = [];
    for (let i = 0; i < TAGS; i++) {
      const image = await builder.image({ format: 'oci', layers: 1, layerSize: 4 * 1024 });
      await pushImage(src, 'lib/app', `v${i}`, image, builder);
      images.push(image);
    }
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-warm-'));
  });
  after(async () => {
    await Promise.all([srcProxy?.stop(), dstProxy?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });
  beforeEach(() => {
    srcProxy.reset();
    dstProxy.reset();
  });

  async function sync(
    name: string,
    options: { verifyDestination?: boolean; srcHost?: string; dstHost?: string; workers?: number } = {},
  ) {
    const srcHost = options.srcHost ?? srcProxy.host;
    const dstHost = options.dstHost ?? dstProxy.host;
    const auth = join(dir, `${name}-auth.json`);
    const imagesFile = join(dir, `${name}-images.json`);
    await writeFile(
      auth,
      JSON.stringify({
        [srcHost]: { username: src.username, password: '${SRC_PASSWORD}', insecure: true },
        [dstHost]: { username: dst.username, password: '${DST_PASSWORD}', insecure: true },
      }),
    );
    await writeFile(imagesFile, JSON.stringify({ [`${srcHost}/lib/app`]: `${dstHost}/${name}/app` }));
    const job = await openJob({
      images: [imagesFile],
      auth,
      lockFile: join(dir, `${name}.lock.json`),
      retries: 1,
      ...(options.verifyDestination ? { verifyDestination: true } : {}),
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      env: { SRC_PASSWORD: src.password!, DST_PASSWORD: dst.password! },
    });
    try {
      return await syncJob(job);
    } finally {
      await job.close();
    }
  }
  const authorized = (rs: readonly ProxiedRequest[]) =>
    rs.filter((r) => r.status !== 401).map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`);

  test('with a lock file, an unchanged tag costs one source HEAD and no destination request', async () => {
    const first = await sync('locked');
    assert.equal(first.summary.copied, TAGS);
    srcProxy.reset();
    dstProxy.reset();
    const second = await sync('locked');
    assert.equal(second.summary.unchanged, TAGS);
    const srcRequests = authorized(srcProxy.requests).filter((r) => r !== 'GET /v2/');
    assert.deepEqual(
      srcRequests.filter((r) => r.startsWith('GET /v2/lib/app/tags/list')),
      ['GET /v2/lib/app/tags/list'],
      'one tag list',
    );
    assert.deepEqual(
      srcRequests.filter((r) => !r.includes('/tags/list')).sort(),
      images.map((_, i) => `HEAD /v2/lib/app/manifests/v${i}`).sort(),
    );
    assert.deepEqual(authorized(dstProxy.requests), [], 'the destination is not asked');
    assert.ok(
      second.results.every((r) => r.platforms.length > 0),
      'platforms come from the lock',
    );
  });

  test('--verify-destination asks both sides, and a tag changed at the destination behind the lock is put back', async () => {
    await sync('verified');
    // Someone overwrites v0 at the destination with v1's manifest: the lock no longer tells the truth.
    await pushImage(dst, 'verified/app', 'v0', images[1]!, builder);
    srcProxy.reset();
    dstProxy.reset();
    const rerun = await sync('verified', { verifyDestination: true });
    assert.equal(rerun.summary.copied, 1);
    assert.equal(rerun.summary.unchanged, TAGS - 1);
    const dstHeads = authorized(dstProxy.requests).filter((r) => r.startsWith('HEAD') && /\/manifests\/v\d+$/.test(r));
    assert.equal(dstHeads.length, TAGS, 'one destination HEAD per tag');
    const got = await verifyImageComplete(dst, 'verified/app', 'v0');
    assert.equal(got.digest, images[0]!.digest);
    assert.deepEqual(got.missing, []);
  });

  test('a source tag that moved since the lock was written is copied again', async () => {
    await sync('moved');
    const replacement = await builder.image({ format: 'oci', layers: 1, layerSize: 4 * 1024 });
    await pushImage(src, 'lib/app', 'v3', replacement, builder);
    try {
      const rerun = await sync('moved');
      assert.equal(rerun.summary.copied, 1);
      const moved = rerun.results.find((r) => r.destination.endsWith(':v3'))!;
      assert.equal(moved.status, 'copied');
      assert.equal(moved.digest, replacement.digest);
      const lock = JSON.parse(await readFile(join(dir, 'moved.lock.json'), 'utf8')) as {
        images: Record<string, { digest: string }>;
      };
      assert.equal(lock.images[moved.destination]!.digest, replacement.digest);
      assert.deepEqual((await verifyImageComplete(dst, 'moved/app', 'v3')).missing, []);
    } finally {
      await pushImage(src, 'lib/app', 'v3', images[3]!, builder);
    }
  });

  test('checks run beyond --workers: with one worker, up to four images are checked at once; copies stay one at a time', async () => {
    await sync('wide');
    let inFlight = 0;
    let most = 0;
    let mostPuts = 0;
    let puts = 0;
    // Hold each source HEAD (and each destination manifest PUT) a little, to see how many are under way together.
    const hold = async (counter: 'heads' | 'puts'): Promise<undefined> => {
      if (counter === 'heads') most = Math.max(most, ++inFlight);
      else mostPuts = Math.max(mostPuts, ++puts);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (counter === 'heads') inFlight--;
      else puts--;
      return undefined;
    };
    const slowSrc = await startProxy({
      target: src.url,
      fault: (r) => (r.method === 'HEAD' && r.authorization ? hold('heads') : undefined),
    });
    const slowDst = await startProxy({
      target: dst.url,
      fault: (r) =>
        r.method === 'PUT' && r.path.includes('/manifests/') && r.authorization ? hold('puts') : undefined,
    });
    try {
      const rerun = await sync('wide', { srcHost: slowSrc.host, dstHost: slowDst.host, workers: 1 });
      assert.equal(rerun.summary.unchanged, TAGS);
      // Up to 4 × workers at once: more than the one worker (4 unless a loaded machine staggers them), never more.
      assert.ok(most >= 2 && most <= 4, `${most} source HEADs at once with --workers 1`);
      // A fresh destination: every image is copied, one at a time.
      const cold = await sync('wide-cold', { srcHost: slowSrc.host, dstHost: slowDst.host, workers: 1 });
      assert.equal(cold.summary.copied, TAGS);
      assert.equal(mostPuts, 1, 'one manifest PUT at a time: copies keep to --workers');
    } finally {
      await Promise.all([slowSrc.stop(), slowDst.stop()]);
    }
  });

  test('HEAD requests reuse keep-alive connections', async () => {
    const srcRelay = await connectionCounter(Number(srcProxy.host.split(':')[1]));
    const dstRelay = await connectionCounter(Number(dstProxy.host.split(':')[1]));
    try {
      await sync('keepalive', { srcHost: srcRelay.host, dstHost: dstRelay.host });
      const before = srcRelay.connections() + dstRelay.connections();
      const rerun = await sync('keepalive', {
        srcHost: srcRelay.host,
        dstHost: dstRelay.host,
        verifyDestination: true,
        workers: 1,
      });
      assert.equal(rerun.summary.unchanged, TAGS);
      const opened = srcRelay.connections() + dstRelay.connections() - before;
      // 2 × TAGS HEADs: a connection each would be 24; with one worker, 4 checks at once need at most 4 per side plus
      // the undici pool for GETs (probe, tag list).
      assert.ok(opened <= 12, `${opened} connections opened for ${2 * TAGS} HEADs`);
    } finally {
      await Promise.all([srcRelay.stop(), dstRelay.stop()]);
    }
  });
});
