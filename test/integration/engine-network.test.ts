import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { RegistryClient, Transport } from '../../src/client/registry-client.js';
import { CopyEngine } from '../../src/engine/copy-engine.js';
import { parseReference } from '../../src/oci/reference.js';
import {
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
  type RunningRegistry,
} from '../harness/index.js';
import { credentialsFor, runCli, via } from './support.js';

/**
 * The engine's network behaviour, observed from outside: a counting, fault-injecting proxy sits in front of each
 * token-auth registry (the token server is reached directly, as its realm says). Each test states the requests it
 * expects, so "rerun costs only HEADs", "mount instead of upload", "chunked when monolithic is refused", retries and
 * redirects are checked on the wire.
 */
describe('engine on the wire (token auth, through proxies)', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let srcProxy: Proxy;
  let dstProxy: Proxy;
  let origin: BlobOrigin;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let multi: BuiltIndex;
  let srcFault: ((r: ProxiedRequest) => Fault | undefined) | undefined;
  let dstFault: ((r: ProxiedRequest) => Fault | undefined) | undefined;
  let transport: Transport;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'token' }),
      startRegistry({ auth: 'token' }),
      ImageBuilder.temporary(),
    ]);
    [srcProxy, dstProxy, origin] = await Promise.all([
      startProxy({ target: src.url, fault: (r) => srcFault?.(r) }),
      startProxy({ target: dst.url, fault: (r) => dstFault?.(r) }),
      startBlobOrigin(builder),
    ]);
    image = await builder.image({ format: 'oci', layers: 3, layerSize: 300 * 1024 });
    multi = await builder.multiArch({ format: 'docker', layerSize: 100 * 1024, sharedLayers: 2 });
    await pushImage(src, 'lib/app', 'v1', image, builder);
    await pushImage(src, 'lib/multi', 'v1', multi, builder);
    transport = new Transport();
  });
  after(async () => {
    await transport?.close();
    await Promise.all([srcProxy?.stop(), dstProxy?.stop(), origin?.stop()]);
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });
  beforeEach(() => {
    srcFault = undefined;
    dstFault = undefined;
    srcProxy.reset();
    dstProxy.reset();
  });

  function engine(
    options: { uploadMode?: 'auto' | 'chunked'; chunkSize?: number } = {},
    limits: { transport?: Transport; signal?: AbortSignal } = {},
  ) {
    const retry = { retries: 3, baseDelayMs: 20, maxDelayMs: 200 };
    const shared = {
      transport: limits.transport ?? transport,
      retry,
      ...(limits.signal ? { signal: limits.signal } : {}),
    };
    const source = new RegistryClient({ credentials: credentialsFor(via(src, srcProxy)), ...shared });
    const destination = new RegistryClient({ credentials: credentialsFor(via(dst, dstProxy)), ...shared, ...options });
    return new CopyEngine({ source, destination });
  }
  const ref = (proxy: Proxy, path: string) => parseReference(`${proxy.host}/${path}`);
  const blobsOf = (m: BuiltManifest) => [m.config, ...m.layers];
  const isBlobPut = (r: ProxiedRequest) =>
    r.method === 'PUT' && r.path.includes('/blobs/uploads/') && r.path.includes('digest=');

  test('a rerun costs one HEAD on each side and nothing else', async () => {
    const first = await engine().copy(ref(srcProxy, 'lib/multi:v1'), ref(dstProxy, 'rerun/multi:v1'));
    assert.equal(first.status, 'copied', first.error?.message);
    srcProxy.reset();
    dstProxy.reset();
    const second = await engine().copy(ref(srcProxy, 'lib/multi:v1'), ref(dstProxy, 'rerun/multi:v1'));
    assert.equal(second.status, 'unchanged');
    const authorized = (rs: ProxiedRequest[]) => rs.filter((r) => r.status !== 401);
    assert.deepEqual(
      authorized(srcProxy.requests).map((r) => `${r.method} ${r.path}`),
      ['HEAD /v2/lib/multi/manifests/v1'],
    );
    assert.deepEqual(
      authorized(dstProxy.requests).map((r) => `${r.method} ${r.path}`),
      ['HEAD /v2/rerun/multi/manifests/v1'],
    );
  });

  test('a blob already in another destination repository is mounted, not uploaded, and read once from the source', async () => {
    const e = engine();
    const one = await e.copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'team-a/app:v1'));
    assert.equal(one.status, 'copied', one.error?.message);
    assert.equal(one.blobs.copied, 4);
    srcProxy.reset();
    dstProxy.reset();
    const two = await e.copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'team-b/app:v1'));
    assert.equal(two.status, 'copied', two.error?.message);
    assert.deepEqual(two.blobs, { copied: 0, mounted: 4, present: 0 });
    const mounts = dstProxy.requests.filter(
      (r) => r.method === 'POST' && r.path.includes('mount=') && r.status === 201,
    );
    assert.equal(mounts.length, 4);
    assert.ok(mounts.every((r) => r.path.includes('from=team-a%2Fapp')));
    assert.equal(dstProxy.requests.filter(isBlobPut).length, 0, 'no upload');
    assert.equal(
      srcProxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).length,
      0,
      'no blob read from the source',
    );
    assert.deepEqual((await verifyImageComplete(dst, 'team-b/app', 'v1')).missing, []);
  });

  test('new blobs take two requests each: POST and one streaming PUT', async () => {
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'two-requests/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    const ok = dstProxy.requests.filter((r) => r.status !== 401);
    for (const blob of blobsOf(image)) {
      assert.equal(ok.filter((r) => r.method === 'PUT' && r.path.includes(encodeURIComponent(blob.digest))).length, 1);
    }
    assert.equal(ok.filter((r) => r.method === 'POST').length, 4);
    assert.equal(ok.filter((r) => r.method === 'PATCH').length, 0);
    for (const put of ok.filter(isBlobPut)) {
      assert.ok(Number(put.headers['content-length']) > 0, 'a monolithic PUT carries Content-Length');
      assert.equal(put.headers['transfer-encoding'], undefined, 'and is not chunked as well');
    }
  });

  test('a manifest over 4 MiB and a Docker schema 1 manifest are refused with a clear error, nothing written', async () => {
    const huge = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      padding: 'x'.repeat(4 * 1024 * 1024 + 1),
    });
    const schema1 = JSON.stringify({
      schemaVersion: 1,
      name: 'lib/app',
      tag: 'v1',
      architecture: 'amd64',
      fsLayers: [],
      history: [],
    });
    for (const [body, type, expected] of [
      [huge, 'application/vnd.oci.image.manifest.v1+json', /ERR_MANIFEST_TOO_LARGE|at most 4194304 bytes/],
      [schema1, 'application/vnd.docker.distribution.manifest.v1+prettyjws', /Docker schema 1 manifest/],
    ] as const) {
      // HEAD and GET agree on the served bytes' digest, so the copy reaches the manifest checks.
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      srcFault = (r) =>
        r.path.includes('/manifests/') && r.headers.authorization !== undefined
          ? { status: 200, headers: { 'content-type': type, 'docker-content-digest': digest }, body }
          : undefined;
      const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'refused/app:v1'));
      assert.equal(result.status, 'failed');
      assert.match(`${result.error?.code} ${result.error?.message}`, expected);
      assert.deepEqual(await listTags(dst, 'refused/app'), []);
    }
  });

  test('falls back to chunked PATCH uploads when the registry refuses a monolithic PUT', async () => {
    dstFault = (r) =>
      isBlobPut(r) && r.headers['content-length'] !== '0'
        ? { status: 413, body: '{"errors":[{"code":"SIZE_INVALID","message":"too large for one request"}]}' }
        : undefined;
    const e = engine({ chunkSize: 64 * 1024 });
    const result = await e.copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'chunked/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    const refused = dstProxy.requests.filter((r) => r.status === 413).length;
    assert.ok(refused >= 1 && refused <= 4, `monolithic tried only by the uploads already under way (${refused})`);
    const patches = dstProxy.requests.filter((r) => r.method === 'PATCH' && r.status === 202);
    assert.ok(patches.length >= 3 * Math.ceil((300 * 1024) / (64 * 1024)), `PATCH count ${patches.length}`);
    assert.ok(patches.every((r) => /^\d+-\d+$/.test(r.headers['content-range'] ?? '')));
    assert.deepEqual((await verifyImageComplete(dst, 'chunked/app', 'v1')).missing, []);
    dstProxy.reset();
    const later = await e.copy(ref(srcProxy, 'lib/multi:v1'), ref(dstProxy, 'chunked/multi:v1'));
    assert.equal(later.status, 'copied', later.error?.message);
    assert.equal(
      dstProxy.requests.filter((r) => r.status === 413).length,
      0,
      'later uploads to that registry go straight to chunked',
    );
    assert.deepEqual((await verifyImageComplete(dst, 'chunked/multi', 'v1')).missing, []);
  });

  test('retries 429 (with and without Retry-After, also on the manifest PUT) and 503 bursts', async () => {
    let blobGets = 0;
    let manifestPuts = 0;
    srcFault = (r) => {
      if (r.method === 'GET' && r.path.includes('/blobs/') && r.headers.authorization !== undefined) {
        blobGets++;
        if (blobGets <= 2) return { status: 503 };
        if (blobGets === 3) return { status: 429 };
      }
      return undefined;
    };
    dstFault = (r) =>
      r.method === 'PUT' && r.path.includes('/manifests/') && ++manifestPuts === 1
        ? { status: 429, headers: { 'retry-after': '1' } }
        : undefined;
    const started = Date.now();
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'retried/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    assert.ok(Date.now() - started >= 1000, 'Retry-After: 1 was honoured');
    assert.equal(dstProxy.requests.filter((r) => r.status === 429).length, 1);
    assert.equal(srcProxy.requests.filter((r) => r.status === 503).length, 2);
    assert.deepEqual((await verifyImageComplete(dst, 'retried/app', 'v1')).missing, []);
  });

  test('a connection reset during a blob PUT and a truncated blob GET are retried from the start', async () => {
    let puts = 0;
    let gets = 0;
    dstFault = (r) => (isBlobPut(r) && ++puts === 1 ? { reset: true } : undefined);
    srcFault = (r) =>
      r.method === 'GET' &&
      r.path.includes(image.layers[1]!.digest) &&
      r.headers.authorization !== undefined &&
      ++gets === 1
        ? { resetAfterBytes: 1000 }
        : undefined;
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'reset/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    assert.equal(gets, 2);
    assert.deepEqual((await verifyImageComplete(dst, 'reset/app', 'v1')).missing, []);
  });

  test('a blob download that stalls is aborted after the stall timeout and retried', async () => {
    const stalling = new Transport({ stallTimeoutMs: 700 });
    let gets = 0;
    const layer = image.layers[2]!;
    srcFault = (r) =>
      r.method === 'GET' && r.path.endsWith(layer.digest) && r.headers.authorization !== undefined && ++gets === 1
        ? { stallAfterBytes: 1000 }
        : undefined;
    try {
      const started = Date.now();
      const result = await engine({}, { transport: stalling }).copy(
        ref(srcProxy, 'lib/app:v1'),
        ref(dstProxy, 'stalled/app:v1'),
      );
      assert.equal(result.status, 'copied', result.error?.message);
      assert.equal(gets, 2, 'the stalled download was retried');
      assert.ok(Date.now() - started >= 700, 'waited for the stall timeout');
      assert.deepEqual((await verifyImageComplete(dst, 'stalled/app', 'v1')).missing, []);
    } finally {
      await stalling.close();
    }
  });

  test('a time limit on the run aborts a copy that cannot finish and leaves no tag', async () => {
    srcFault = (r) =>
      r.method === 'GET' && r.path.includes('/blobs/') && r.headers.authorization !== undefined
        ? { stallAfterBytes: 100 }
        : undefined;
    const bounded = new Transport({ stallTimeoutMs: 60_000 });
    try {
      const started = Date.now();
      const result = await engine({}, { transport: bounded, signal: AbortSignal.timeout(1500) }).copy(
        ref(srcProxy, 'lib/app:v1'),
        ref(dstProxy, 'bounded/app:v1'),
      );
      const elapsed = Date.now() - started;
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'ERR_ABORTED');
      assert.match(result.error!.message, /time limit/);
      assert.ok(elapsed < 10_000, `stopped soon after the limit (${elapsed} ms)`);
      assert.deepEqual(await listTags(dst, 'bounded/app'), [], 'no tag written');
    } finally {
      await bounded.close();
    }
  });

  test('a token that expires mid-run (401 on a blob PUT and on the manifest PUT) is renewed and the copy completes', async () => {
    const challenge = `Bearer realm="${dst.tokenServer!.url}",service="test-registry"`;
    let blobPuts = 0;
    let manifestPuts = 0;
    dstFault = (r) => {
      if (r.headers.authorization === undefined) return undefined;
      if (isBlobPut(r) && ++blobPuts === 2)
        return {
          status: 401,
          headers: { 'www-authenticate': challenge },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}',
        };
      if (r.method === 'PUT' && r.path.includes('/manifests/') && ++manifestPuts === 1)
        return { status: 401, headers: { 'www-authenticate': challenge } };
      return undefined;
    };
    const tokensBefore = dst.tokenServer!.requests.length;
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'expired/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    assert.ok(dst.tokenServer!.requests.length - tokensBefore >= 3, 'new tokens were fetched after each 401');
    assert.equal(dstProxy.requests.filter((r) => r.status === 401 && r.authorization === 'Bearer').length, 2);
    assert.deepEqual((await verifyImageComplete(dst, 'expired/app', 'v1')).missing, []);
  });

  test('a lost upload session (404 on PUT) starts a new one', async () => {
    let puts = 0;
    dstFault = (r) =>
      isBlobPut(r) && ++puts === 1
        ? {
            status: 404,
            body: '{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}',
          }
        : undefined;
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'lost-session/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    assert.equal(dstProxy.requests.filter((r) => r.status === 404 && isBlobPut(r)).length, 1);
    assert.deepEqual((await verifyImageComplete(dst, 'lost-session/app', 'v1')).missing, []);
  });

  test('tags are listed through the client', async () => {
    await pushImage(src, 'lib/tagged', 'b', image, builder);
    await pushImage(src, 'lib/tagged', 'a', image, builder);
    const client = new RegistryClient({ credentials: credentialsFor(via(src, srcProxy)), transport });
    assert.deepEqual((await client.listTags(srcProxy.host, 'lib/tagged')).sort(), ['a', 'b']);
    assert.deepEqual(await client.listTags(srcProxy.host, 'lib/never-pushed'), []);
  });

  test('a blob redirect to another origin is followed without sending credentials there', async () => {
    srcFault = (r) => {
      const m = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path);
      return r.method === 'GET' && m && r.headers.authorization !== undefined
        ? { redirect: `${origin.url}/blobs/${m[1]!.replace(':', '/')}?X-Signature=abc` }
        : undefined;
    };
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'redirected/app:v1'));
    assert.equal(result.status, 'copied', result.error?.message);
    assert.ok(origin.requests.length >= 4, 'blobs were read from the other origin');
    assert.ok(
      origin.requests.every((r) => !r.authorization),
      'no Authorization header reached the other origin',
    );
    assert.ok(
      srcProxy.requests.filter((r) => r.status === 307).every((r) => r.authorization === 'Bearer'),
      'the registry itself got the token',
    );
    assert.deepEqual((await verifyImageComplete(dst, 'redirected/app', 'v1')).missing, []);
  });

  test('source bytes that do not match the digest fail the image and leave no tag', async () => {
    const layer = image.layers[0]!;
    srcFault = (r) =>
      r.method === 'GET' && r.path.endsWith(layer.digest) && r.headers.authorization !== undefined
        ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'x'.repeat(layer.size) }
        : undefined;
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'corrupt/app:v1'));
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'ERR_DIGEST_MISMATCH');
    assert.match(result.error!.message, new RegExp(layer.digest));
    assert.equal(
      srcProxy.requests.filter((r) => r.path.endsWith(layer.digest) && r.status === 200).length,
      4,
      'tried 1 + 3 retries',
    );
    assert.deepEqual(await listTags(dst, 'corrupt/app'), [], 'no tag written');
    assert.ok(
      !dstProxy.requests.some((r) => r.method === 'PUT' && r.path.includes('/manifests/')),
      'no manifest written',
    );
  });

  test('an image that fails reports only after its other transfers have settled (nothing of it still writing)', async () => {
    const [corrupt, , slow] = image.layers;
    srcFault = (r) => {
      if (r.method !== 'GET' || r.headers.authorization === undefined) return undefined;
      if (r.path.endsWith(corrupt!.digest))
        return {
          status: 200,
          headers: { 'content-type': 'application/octet-stream' },
          body: 'x'.repeat(corrupt!.size),
        };
      // About a second for this layer: far longer than the corrupt one takes to fail with its retries.
      if (r.path.endsWith(slow!.digest)) return { drip: { bytes: 16 * 1024, intervalMs: 50 } };
      return undefined;
    };
    const result = await engine().copy(ref(srcProxy, 'lib/app:v1'), ref(dstProxy, 'settled/app:v1'));
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'ERR_DIGEST_MISMATCH');
    const slowPut = dstProxy.requests.find(
      (r) => r.method === 'PUT' && decodeURIComponent(r.path).includes(`digest=${slow!.digest}`),
    );
    assert.equal(slowPut?.status, 201, 'the slow layer was stored before the failure was reported');
  });

  test('an unreachable registry is named with the cause (exit 1)', async () => {
    const { freePort } = await import('../harness/index.js');
    const port = await freePort();
    const run = await runCli([
      'copy',
      `${srcProxy.host}/lib/app:v1`,
      `127.0.0.1:${port}/x/app:v1`,
      '--insecure',
      '--retries',
      '1',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, new RegExp(`registry 127\\.0\\.0\\.1:${port} unreachable: ECONNREFUSED`));
    const fromNowhere = await engine().copy(
      parseReference(`127.0.0.1:${port}/lib/app:v1`),
      ref(dstProxy, 'nowhere/app:v1'),
    );
    assert.equal(fromNowhere.error?.code, 'ERR_REGISTRY_UNREACHABLE');
    assert.match(fromNowhere.error!.message, new RegExp(`registry 127\\.0\\.0\\.1:${port} unreachable: ECONNREFUSED`));
  });
});
