import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  ImageBuilder,
  makeTestCertificates,
  pushImage,
  startLatencyProxy,
  startRegistry,
  type BuiltManifest,
  type LatencyProxy,
  type RunningRegistry,
  type TestCertificates,
} from '../harness/index.js';
import { parseJsonOutput, runCli } from './support.js';

interface SyncJson {
  readonly images: ImageResult[];
}

const REPOSITORIES = 6;
const TAGS = 4;

/**
 * A TLS registry that offers HTTP/2 (distribution serves h2 over ALPN): the run's reads that are not blobs share one
 * multiplexed connection, blobs and writes go over HTTP/1.1, and `--no-http2` keeps everything on HTTP/1.1. A
 * registry behind a TLS terminator that speaks HTTP/1.1 only is reached as before. Connections are counted by TCP
 * relays in front of the registries (docs/performance.md, "Round trips and HTTP/2").
 */
describe('HTTP/2 for reads that are not blobs', () => {
  let certs: TestCertificates;
  let storage: string;
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let srcLink: LatencyProxy;
  let dstLink: LatencyProxy;
  let h1Link: LatencyProxy;
  let plain: RunningRegistry;
  let builder: ImageBuilder;
  let dir: string;
  const images = new Map<string, BuiltManifest>();

  before(async () => {
    certs = await makeTestCertificates();
    builder = await ImageBuilder.temporary();
    storage = await mkdtemp(join(tmpdir(), 'swr-sync-h2-src-'));
    // Seeded over plain HTTP (the harness pushes without TLS), then served with TLS from the same storage.
    const seed = await startRegistry({ storageDir: storage });
    try {
      for (let r = 0; r < REPOSITORIES; r++) {
        for (let t = 0; t < TAGS; t++) {
          const image = await builder.image({ format: 'oci', layers: 1, layerSize: 2048 });
          await pushImage(seed, `h2/r${r}`, `v${t}`, image, builder);
          images.set(`h2/r${r}:v${t}`, image);
        }
      }
    } finally {
      await seed.stop();
    }
    const tls = { certificate: certs.certificate, key: certs.key };
    [src, dst] = await Promise.all([
      startRegistry({ auth: 'basic', storageDir: storage, tls }),
      startRegistry({ auth: 'basic', tls }),
    ]);
    [srcLink, dstLink, h1Link] = await Promise.all([
      startLatencyProxy({ target: src.host }),
      startLatencyProxy({ target: dst.host }),
      // TLS terminated by a Node server that offers no ALPN protocol: the registry behind it speaks HTTP/1.1 only.
      startRegistry({ auth: 'basic', storageDir: storage }).then((started) => {
        plain = started;
        return startLatencyProxy({ target: plain.host, tls });
      }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-h2-'));
  });
  after(async () => {
    await Promise.all([srcLink?.stop(), dstLink?.stop(), h1Link?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), plain?.stop(), builder?.dispose()]);
    await Promise.all([rm(storage, { recursive: true, force: true }), rm(dir, { recursive: true, force: true })]);
  });

  /** `sync` from `from` (a relay of the source) into namespace `ns` of the destination; a run with or without a lock. */
  async function sync(name: string, from: LatencyProxy, ns: string, extra: string[] = []) {
    const work = join(dir, name);
    await mkdir(work, { recursive: true });
    const origin = from === h1Link ? plain : src;
    const auth = {
      [from.host]: { username: origin.username, password: '${SRC_PASSWORD}' },
      [dstLink.host]: { username: dst.username, password: '${DST_PASSWORD}' },
    };
    const rules: Record<string, string> = {};
    for (let r = 0; r < REPOSITORIES; r++) rules[`${from.host}/h2/r${r}`] = `${dstLink.host}/${ns}/r${r}`;
    await writeFile(join(work, 'auth.json'), JSON.stringify(auth));
    await writeFile(join(work, 'images.json'), JSON.stringify(rules));
    return async (lock?: string) => {
      const run = await runCli(
        [
          'sync',
          '--auth',
          join(work, 'auth.json'),
          '--images',
          join(work, 'images.json'),
          ...(lock ? ['--lock', lock] : []),
          '--json',
          ...extra,
        ],
        { env: { NODE_EXTRA_CA_CERTS: certs.caPath, SRC_PASSWORD: origin.password!, DST_PASSWORD: dst.password! } },
      );
      assert.equal(run.code, 0, run.stderr);
      return parseJsonOutput<SyncJson>(run).images;
    };
  }

  const statuses = (results: readonly ImageResult[]) => [...new Set(results.map((r) => r.status))];

  test('a warm run over HTTP/2: every tag list and HEAD of the run goes over one connection', async () => {
    const run = await sync('h2', srcLink, 'h2');
    const lock = join(dir, 'h2.lock.json');
    const cold = await run(lock);
    assert.equal(cold.length, REPOSITORIES * TAGS);
    assert.deepEqual(statuses(cold), ['copied']);
    for (const result of cold) {
      const key = result.source.slice(srcLink.host.length + 1);
      assert.equal(result.digest, images.get(key)!.digest, key);
    }
    srcLink.resetCounters();
    dstLink.resetCounters();
    const warm = await run(lock);
    assert.deepEqual(statuses(warm), ['unchanged']);
    // 6 tag lists and 24 HEADs, all multiplexed on the first connection; the destination is not asked (the lock).
    assert.equal(srcLink.connections, 1);
    assert.equal(dstLink.connections, 0);
  });

  test('--no-http2: the same warm run opens HTTP/1.1 connections and finds the same', async () => {
    const run = await sync('h1', srcLink, 'h2', ['--no-http2']);
    const lock = join(dir, 'h1.lock.json');
    assert.deepEqual(statuses(await run(lock)), ['unchanged']);
    srcLink.resetCounters();
    const warm = await run(lock);
    assert.deepEqual(statuses(warm), ['unchanged']);
    // The tag lists' pool and the HEADs' keep-alive pool each open their own connections.
    assert.ok(srcLink.connections >= 2, `${srcLink.connections} connections`);
  });

  test('without a lock, the checks HEAD both sides over HTTP/2; a cold copy sends blobs over HTTP/1.1 beside it', async () => {
    const run = await sync('nolock', srcLink, 'fresh');
    srcLink.resetCounters();
    const cold = await run();
    assert.deepEqual(statuses(cold), ['copied']);
    // Blob reads and uploads take their own HTTP/1.1 connections beside the multiplexed one.
    assert.ok(srcLink.connections >= 2, `${srcLink.connections} connections to the source`);
    dstLink.resetCounters();
    srcLink.resetCounters();
    const warm = await run();
    assert.deepEqual(statuses(warm), ['unchanged']);
    assert.equal(srcLink.connections, 1);
    assert.equal(dstLink.connections, 1);
  });

  test('a TLS registry that speaks HTTP/1.1 only is reached as before', async () => {
    const run = await sync('only-h1', h1Link, 'only-h1');
    const lock = join(dir, 'only-h1.lock.json');
    assert.deepEqual(statuses(await run(lock)), ['copied']);
    const warm = await run(lock);
    assert.deepEqual(statuses(warm), ['unchanged']);
    assert.equal(warm.length, REPOSITORIES * TAGS);
  });
});
