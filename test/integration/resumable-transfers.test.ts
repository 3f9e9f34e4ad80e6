import assert from 'node:assert/strict';
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
  verifyImageComplete,
  type BuiltManifest,
  type Fault,
  type LatencyProxy,
  type ProxiedRequest,
  type Proxy,
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
    [src, dst, builder] = await Promise.all([startRegistry({ tmpfs: true }), startRegistry({ tmpfs: true }), ImageBuilder.temporary({ tmpfs: true })]);
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
  const blobGets = (): ProxiedRequest[] => faults.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layerDigest()}`));

  async function copy(): Promise<string> {
    const retry = { retries: 3, baseDelayMs: 20, maxDelayMs: 200 };
    const source = new RegistryClient({ credentials: credentialsFor({ host: link.host }), transport, retry });
    const destination = new RegistryClient({ credentials: credentialsFor(dst), transport, retry });
    const repository = `resumed/r${++run}`;
    const result = await new CopyEngine({ source, destination }).copy(parseReference(`${link.host}/big/layer:v1`), parseReference(`${dst.host}/${repository}:v1`));
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
    assert.ok(link.bytes.down <= LAYER * 1.05, `downloaded ${(link.bytes.down / MiB).toFixed(1)} MiB for a ${LAYER / MiB} MiB layer; ${faults.requests.map((g) => `${g.method} ${g.path.slice(0, 40)} ${g.status} ${g.headers.range ?? ""}`).join(", ")}`);
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
