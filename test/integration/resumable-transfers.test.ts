import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { RegistryClient, Transport } from '../../src/client/registry-client.js';
import { CopyEngine } from '../../src/engine/copy-engine.js';
import { parseReference } from '../../src/oci/reference.js';
import {
  ImageBuilder,
  pushImage,
  startLatencyProxy,
  startProxy,
  startRegistry,
  startResumableRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type Fault,
  type LatencyProxy,
  type ProxiedRequest,
  type Proxy,
  type ResumableRegistry,
  type RunningRegistry,
} from '../harness/index.js';
import { credentialsFor } from './support.js';

const MiB = 1024 * 1024;
const LAYER = 32 * MiB;

/**
 * Transfers over links that drop: a counting TCP proxy cuts the source connection at chosen byte positions, and an
 * HTTP proxy behind it can make the registry ignore `Range`. The bytes that crossed the link are counted, so a
 * retry that starts the blob over (instead of resuming it) shows as a byte count, not only as a slower run.
 */
describe('resumable downloads (cut connections, Range ignored)', { timeout: 120_000 }, () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let faults: Proxy;
  let link: LatencyProxy;
  let fault: ((r: ProxiedRequest) => Fault | undefined) | undefined;
  let transport: Transport;
  let run = 0;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ tmpfs: true }),
      startRegistry({ tmpfs: true }),
      ImageBuilder.temporary({ tmpfs: true }),
    ]);
    faults = await startProxy({ target: src.url, fault: (r) => fault?.(r) });
    link = await startLatencyProxy({ target: faults.host });
    const layer = await builder.layer({ size: LAYER, seed: 'resumable/layer', level: 0 });
    image = await builder.image({ format: 'oci', layers: [layer] });
    await pushImage(src, 'big/layer', 'v1', image, builder);
    transport = new Transport();
  });
  after(async () => {
    await transport?.close();
    await Promise.all([link?.stop(), faults?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });
  beforeEach(() => {
    fault = undefined;
    faults.reset();
    link.resetCounters();
    link.setCuts(undefined);
  });

  const layerDigest = (): string => image.layers[0]!.digest;
  const blobGets = (): ProxiedRequest[] =>
    faults.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layerDigest()}`));

  async function copy(): Promise<string> {
    const retry = { retries: 3, baseDelayMs: 20, maxDelayMs: 200 };
    const source = new RegistryClient({ credentials: credentialsFor({ host: link.host }), transport, retry });
    const destination = new RegistryClient({ credentials: credentialsFor(dst), transport, retry });
    const repository = `resumed/r${++run}`;
    const result = await new CopyEngine({ source, destination }).copy(
      parseReference(`${link.host}/big/layer:v1`),
      parseReference(`${dst.host}/${repository}:v1`),
    );
    assert.equal(result.status, 'copied', JSON.stringify(result.error));
    assert.equal(result.digest, image.digest);
    assert.deepEqual((await verifyImageComplete(dst, repository, 'v1')).missing, []);
    return repository;
  }

  test('a download cut three times continues with Range from where it stopped: the blob crosses the link once', async () => {
    link.setCuts({ direction: 'down', at: [5 * MiB, 13 * MiB, 22 * MiB] });
    await copy();
    assert.equal(link.cutCount, 3);
    const gets = blobGets();
    assert.equal(gets.length, 4, gets.map((g) => `${g.status} ${g.headers.range ?? ''}`).join(', '));
    assert.equal(gets[0]!.headers.range, undefined);
    for (const g of gets.slice(1)) assert.match(g.headers.range ?? '', /^bytes=\d+-$/);
    // Manifests and config add a few KiB; a restart from byte 0 would add 5 + 13 + 22 MiB.
    assert.ok(
      link.bytes.down <= LAYER * 1.05,
      `downloaded ${(link.bytes.down / MiB).toFixed(1)} MiB for a ${LAYER / MiB} MiB layer; ${faults.requests.map((g) => `${g.method} ${g.path.slice(0, 40)} ${g.status} ${g.headers.range ?? ''}`).join(', ')}`,
    );
  });

  test('a 200 to a range request near the start: the prefix is read and dropped, the transfer goes on', async () => {
    let gets = 0;
    fault = (r) => {
      if (r.method !== 'GET' || !r.path.endsWith(`/blobs/${layerDigest()}`)) return undefined;
      return ++gets === 1 ? { resetAfterBytes: 2 * MiB } : { dropRequestHeaders: ['range'] };
    };
    await copy();
    const seen = blobGets();
    assert.equal(seen.length, 2);
    assert.match(seen[1]!.headers.range ?? '', /^bytes=\d+-$/);
    assert.equal(seen[1]!.status, 200);
    assert.ok(link.bytes.down <= LAYER + 3 * MiB, `downloaded ${(link.bytes.down / MiB).toFixed(1)} MiB`);
  });

  test('a 200 to a range request far into the blob: one restart from byte 0, not a quadratic re-read', async () => {
    let gets = 0;
    fault = (r) => {
      if (r.method !== 'GET' || !r.path.endsWith(`/blobs/${layerDigest()}`)) return undefined;
      return ++gets === 1 ? { resetAfterBytes: 20 * MiB } : { dropRequestHeaders: ['range'] };
    };
    await copy();
    const seen = blobGets();
    assert.equal(seen.length, 3, seen.map((g) => `${g.status} ${g.headers.range ?? ''}`).join(', '));
    assert.match(seen[1]!.headers.range ?? '', /^bytes=\d+-$/);
    assert.equal(seen[2]!.headers.range, undefined, 'the restart asks for the whole blob');
    // 20 MiB before the cut, the refused 200 dropped at once (what was in flight), then the whole blob.
    assert.ok(link.bytes.down <= LAYER + 20 * MiB + 8 * MiB, `downloaded ${(link.bytes.down / MiB).toFixed(1)} MiB`);
  });
});

/** Watches `dir` for spool files while a copy runs: the largest size seen, so a test knows one was written. */
function watchSpools(dir: string): { stop: () => Promise<number> } {
  let largest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const name of await readdir(dir).catch(() => [])) {
        if (!name.startsWith('.swr-sync-spool-')) continue;
        const size = await stat(join(dir, name)).then(
          (s) => s.size,
          () => 0,
        );
        largest = Math.max(largest, size);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return largest;
    },
  };
}

/**
 * Uploads that survive cut connections. The destination link cuts uploads at chosen byte positions. A registry
 * that keeps what it received (the harness's resumable registry, as the distribution spec allows) is resumed from
 * the offset it reports, and the source is re-read from there with Range, not from byte 0; distribution 2.8, which
 * loses the session when a PATCH is cut mid-body, gets a new session, fed from the spool file the blob was kept in
 * as it streamed (TMPDIR points at a directory of the test's own, to see the file come and go).
 */
describe('resumable uploads (cut connections, lost sessions)', { timeout: 180_000 }, () => {
  const BIG = 40 * MiB;
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let stub: ResumableRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let down: LatencyProxy;
  let upStub: LatencyProxy;
  let upDst: LatencyProxy;
  let transport: Transport;
  let spoolDir: string;
  const savedTmpdir = process.env.TMPDIR;

  before(async () => {
    [src, dst, builder, stub] = await Promise.all([
      startRegistry({ tmpfs: true }),
      startRegistry({ tmpfs: true }),
      ImageBuilder.temporary({ tmpfs: true }),
      startResumableRegistry(),
    ]);
    [down, upStub, upDst] = await Promise.all([
      startLatencyProxy({ target: src.url }),
      startLatencyProxy({ target: stub.url }),
      startLatencyProxy({ target: dst.url }),
    ]);
    const layer = await builder.layer({ size: BIG, seed: 'resumable/upload', level: 0 });
    image = await builder.image({ format: 'oci', layers: [layer] });
    await pushImage(src, 'big/upload', 'v1', image, builder);
    transport = new Transport();
    spoolDir = await mkdtemp(join(tmpdir(), 'spool-test-'));
    process.env.TMPDIR = spoolDir;
  });
  after(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await transport?.close();
    await Promise.all([down?.stop(), upStub?.stop(), upDst?.stop(), stub?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose(), spoolDir && rm(spoolDir, { recursive: true })]);
  });
  beforeEach(() => {
    for (const link of [down, upStub, upDst]) {
      link.resetCounters();
      link.setCuts(undefined);
    }
    stub.requests.length = 0;
    stub.blobs.clear();
    stub.loseSessions = false;
    process.env.TMPDIR = spoolDir;
  });

  let run = 0;
  async function copyTo(link: LatencyProxy): Promise<string> {
    const retry = { retries: 3, baseDelayMs: 20, maxDelayMs: 200 };
    const source = new RegistryClient({ credentials: credentialsFor({ host: down.host }), transport, retry });
    const destination = new RegistryClient({ credentials: credentialsFor({ host: link.host }), transport, retry });
    const repository = `up/r${++run}`;
    const result = await new CopyEngine({ source, destination }).copy(
      parseReference(`${down.host}/big/upload:v1`),
      parseReference(`${link.host}/${repository}:v1`),
    );
    assert.equal(result.status, 'copied', JSON.stringify(result.error));
    assert.equal(result.digest, image.digest);
    return repository;
  }

  test('an upload cut three times resumes at the offset the registry reports; the source is re-read from there, not from 0', async () => {
    upStub.setCuts({ direction: 'up', at: [6 * MiB, 17 * MiB, 29 * MiB] });
    const repository = await copyTo(upStub);
    assert.equal(upStub.cutCount, 3);
    assert.ok(stub.blobs.has(image.layers[0]!.digest) && stub.manifests.has(`${repository}:v1`));
    const statusChecks = stub.requests.filter((r) => r.startsWith('GET ') && r.includes('/blobs/uploads/'));
    // One per cut, and one more when the registry had not yet stored all it received when asked (then a 416).
    assert.ok(statusChecks.length >= 3, stub.requests.join('\n'));
    assert.equal(
      stub.requests.filter((r) => r.startsWith('POST ')).length,
      2,
      'one session for the layer (and one for the config), never a new one',
    );
    // Each resume re-sends at most what was in flight; the source is read again from the last MiB checkpoint only.
    assert.ok(upStub.bytes.up <= BIG * 1.05, `uploaded ${(upStub.bytes.up / MiB).toFixed(1)} MiB for ${BIG / MiB} MiB`);
    assert.ok(
      down.bytes.down <= BIG * 1.05,
      `downloaded ${(down.bytes.down / MiB).toFixed(1)} MiB for ${BIG / MiB} MiB`,
    );
  });

  test('a registry that lost the session (404 on its upload URL) gets a new one', async () => {
    stub.loseSessions = true;
    upStub.setCuts({ direction: 'up', at: [10 * MiB] });
    const repository = await copyTo(upStub);
    assert.ok(stub.manifests.has(`${repository}:v1`));
    assert.equal(stub.requests.filter((r) => r.startsWith('POST ')).length, 3, stub.requests.join('\n'));
    assert.ok(upStub.bytes.up <= BIG + 10 * MiB + 4 * MiB, `uploaded ${(upStub.bytes.up / MiB).toFixed(1)} MiB`);
  });

  test('distribution 2.8: a PATCH cut mid-body loses the session; the upload starts over in a new one, fed from the spool: the source is read once', async () => {
    // The second cut comes 5 MiB into the second session, while it is still fed from the spool.
    upDst.setCuts({ direction: 'up', at: [10 * MiB, 15 * MiB] });
    const spools = watchSpools(spoolDir);
    const repository = await copyTo(upDst);
    const largest = await spools.stop();
    assert.equal(upDst.cutCount, 2);
    assert.deepEqual((await verifyImageComplete(dst, repository, 'v1')).missing, []);
    // Each new session's first MiBs came from the disk; only what was never read came from the source.
    assert.ok(largest >= 10 * MiB, `a spool file was written (largest seen: ${largest} bytes)`);
    assert.ok(
      down.bytes.down <= BIG * 1.05,
      `downloaded ${(down.bytes.down / MiB).toFixed(1)} MiB for ${BIG / MiB} MiB`,
    );
    assert.ok(upDst.bytes.up >= BIG + 15 * MiB, 'distribution discards the session: the upload starts over');
    assert.deepEqual(await readdir(spoolDir), [], 'the spool file is removed once the blob is in place');
  });

  test('no spool when the temp dir cannot take one (TMPDIR missing): the upload starts over and the source is read again', async () => {
    process.env.TMPDIR = join(spoolDir, 'missing');
    upDst.setCuts({ direction: 'up', at: [10 * MiB] });
    const repository = await copyTo(upDst);
    assert.equal(upDst.cutCount, 1);
    assert.deepEqual((await verifyImageComplete(dst, repository, 'v1')).missing, []);
    // Today's behaviour without a spool: the bytes the in-memory history no longer holds are downloaded again.
    assert.ok(
      down.bytes.down > BIG * 1.05,
      `downloaded ${(down.bytes.down / MiB).toFixed(1)} MiB for ${BIG / MiB} MiB: the re-download was expected`,
    );
  });
});
