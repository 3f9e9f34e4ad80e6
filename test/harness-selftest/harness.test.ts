import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  ImageBuilder,
  MediaType,
  fetchManifest,
  freePort,
  headBlob,
  listTags,
  pushImage,
  startBlobOrigin,
  startProxy,
  startRegistry,
  startTokenServer,
  stopAll,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';

const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

let builder: ImageBuilder;
before(async () => {
  builder = await ImageBuilder.temporary({ tmpfs: true });
});
after(async () => {
  await stopAll();
  await builder.dispose();
});

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Polls briefly: a killed child stays a zombie (and signalable) until Node reaps it. */
async function isGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

test('freePort returns a bindable loopback port', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
});

describe('ImageBuilder', () => {
  test('a seeded layer is a reproducible gzip tar whose diffId is the digest of the gunzipped bytes', async () => {
    const other = await ImageBuilder.temporary();
    try {
      const a = await builder.layer({ size: 100_000, seed: 'same' });
      const b = await other.layer({ size: 100_000, seed: 'same' });
      const c = await builder.layer({ size: 100_000 });
      assert.equal(a.digest, b.digest);
      assert.equal(a.diffId, b.diffId);
      assert.notEqual(a.digest, c.digest);

      const gz = await builder.readBlob(a.digest);
      assert.equal(gz.length, a.size);
      assert.equal(sha256(gz), a.digest);
      assert.equal(gz.readUInt32LE(4), 0, 'gzip MTIME is 0');
      const tar = gunzipSync(gz);
      assert.equal(sha256(tar), a.diffId);
      // One 512-byte header, the content padded to 512, two zero blocks.
      assert.equal(tar.length, 512 + Math.ceil(100_000 / 512) * 512 + 1024);
      assert.equal(tar.subarray(257, 262).toString('latin1'), 'ustar');
      assert.equal(parseInt(tar.subarray(124, 135).toString('latin1'), 8), 100_000);
      assert.equal(parseInt(tar.subarray(136, 147).toString('latin1'), 8), 0, 'tar mtime is 0');
    } finally {
      await other.dispose();
    }
  });

  test('image configs list the diff_ids and manifests carry the format media types', async () => {
    for (const format of ['docker', 'oci'] as const) {
      const image = await builder.image({ format, layers: 2, layerSize: 2048, seed: `cfg-${format}` });
      assert.equal(sha256(image.bytes), image.digest);
      assert.deepEqual(await builder.readBlob(image.digest), image.bytes);
      const manifest = JSON.parse(image.bytes.toString('utf8'));
      const config = JSON.parse((await builder.readBlob(image.config.digest)).toString('utf8'));
      assert.deepEqual(
        config.rootfs.diff_ids,
        image.layers.map((l) => l.diffId),
      );
      assert.equal(config.architecture, 'amd64');
      assert.equal(config.os, 'linux');
      const expected =
        format === 'docker'
          ? [MediaType.dockerManifest, MediaType.dockerConfig, MediaType.dockerLayer]
          : [MediaType.ociManifest, MediaType.ociConfig, MediaType.ociLayer];
      assert.deepEqual([manifest.mediaType, manifest.config.mediaType, manifest.layers[0].mediaType], expected);
      assert.equal(manifest.layers[0].diffId, undefined, 'diffId is not serialized');
      const again = await builder.image({ format, layers: 2, layerSize: 2048, seed: `cfg-${format}` });
      assert.equal(again.digest, image.digest);
    }
  });

  test('an index with attestations links one BuildKit-style attestation manifest per image', async () => {
    const index = await builder.multiArch({ format: 'oci', attestation: true, sharedLayers: 2 });
    const json = JSON.parse(index.bytes.toString('utf8'));
    assert.equal(json.mediaType, MediaType.ociIndex);
    assert.equal(json.manifests.length, 4);
    const [amd64, arm64, att1, att2] = json.manifests;
    assert.deepEqual(amd64.platform, { architecture: 'amd64', os: 'linux' });
    assert.deepEqual(arm64.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    assert.deepEqual(index.children[0]!.layers.slice(0, 2), index.children[1]!.layers.slice(0, 2), 'shared layers');
    for (const [att, image] of [
      [att1, amd64],
      [att2, arm64],
    ]) {
      assert.deepEqual(att.platform, { architecture: 'unknown', os: 'unknown' });
      assert.equal(att.annotations['vnd.docker.reference.type'], 'attestation-manifest');
      assert.equal(att.annotations['vnd.docker.reference.digest'], image.digest);
    }
    const attestation = index.children[2]!;
    assert.equal(attestation.layers[0]!.mediaType, MediaType.inToto);
    const statement = JSON.parse((await builder.readBlob(attestation.layers[0]!.digest)).toString('utf8'));
    assert.equal(statement.subject[0].digest.sha256, amd64.digest.slice('sha256:'.length));
  });

  test('an artifact has an artifactType and the empty descriptor as config', async () => {
    const artifact = await builder.artifact();
    const json = JSON.parse(artifact.bytes.toString('utf8'));
    assert.equal(json.artifactType, 'application/vnd.example.sbom.v1');
    assert.equal(json.config.mediaType, MediaType.ociEmpty);
    assert.equal(json.config.digest, EMPTY_DIGEST);
    assert.equal(json.config.size, 2);
    assert.equal(json.layers[0].mediaType, 'application/vnd.example.sbom+json');
  });

  test('tag names a manifest in the layout index.json', async () => {
    const image = await builder.image({ format: 'oci' });
    await builder.tag('selftest', image);
    await builder.tag('selftest', image);
    const layout = JSON.parse(await readFile(join(builder.dir, 'index.json'), 'utf8'));
    const named = layout.manifests.filter(
      (d: { annotations?: Record<string, string> }) =>
        d.annotations?.['org.opencontainers.image.ref.name'] === 'selftest',
    );
    assert.equal(named.length, 1);
    assert.equal(named[0].digest, image.digest);
    assert.ok(existsSync(join(builder.dir, 'oci-layout')));
  });
});

for (const auth of ['none', 'basic', 'token'] as const) {
  describe(`registry with auth=${auth}`, () => {
    let registry: RunningRegistry;
    before(async () => {
      registry = await startRegistry({ auth, tmpfs: true });
    });
    after(() => registry.stop());

    test('pushed images read back byte-identical and complete', async () => {
      const image = await builder.image({ format: 'docker', layers: 2, layerSize: 50_000 });
      const index = await builder.multiArch({ format: 'oci', attestation: true, layerSize: 20_000 });
      const artifact = await builder.artifact({ subject: image });
      const pushed: Array<[string, BuiltManifest | BuiltIndex]> = [
        ['selftest/docker', image],
        ['selftest/multi', index],
        ['selftest/artifact', artifact],
      ];
      for (const [repository, target] of pushed) await pushImage(registry, repository, 'v1', target, builder);

      for (const [repository, target] of pushed) {
        const fetched = await fetchManifest(registry, repository, 'v1');
        assert.equal(fetched.status, 200);
        assert.equal(fetched.digest, target.digest);
        assert.equal(fetched.mediaType, target.mediaType);
        assert.deepEqual(fetched.bytes, target.bytes);
        assert.deepEqual(await verifyImageComplete(registry, repository, 'v1'), { digest: target.digest, missing: [] });
        assert.deepEqual(await listTags(registry, repository), ['v1']);
      }
      assert.equal(await headBlob(registry, 'selftest/docker', image.layers[0]!.digest), 200);
      assert.equal(await headBlob(registry, 'selftest/docker', index.children[0]!.layers[0]!.digest), 404);
      const child = await fetchManifest(registry, 'selftest/multi', index.children[3]!.digest);
      assert.equal(child.status, 200, 'attestation manifests are pushed by digest');
    });

    if (auth === 'none') {
      test('verifyImageComplete reports a blob the registry lost', async () => {
        const image = await builder.image({ format: 'oci', layers: 2 });
        await pushImage(registry, 'selftest/victim', 'v1', image, builder);
        const lost = image.layers[1]!.digest;
        const res = await fetch(`${registry.url}/v2/selftest/victim/blobs/${lost}`, { method: 'DELETE' });
        assert.equal(res.status, 202);
        assert.deepEqual(await verifyImageComplete(registry, 'selftest/victim', 'v1'), {
          digest: image.digest,
          missing: [lost],
        });
        assert.equal((await verifyImageComplete(registry, 'selftest/victim', 'nope')).missing[0], 'nope');
      });

      test('a Docker manifest list and a tag history push', async () => {
        const list = await builder.multiArch({ format: 'docker' });
        assert.equal(list.mediaType, MediaType.dockerManifestList);
        const older = await builder.image({ format: 'docker' });
        await pushImage(registry, 'selftest/list', 'latest', [older, ...list.children], builder);
        assert.equal((await fetchManifest(registry, 'selftest/list', 'latest')).digest, list.children[1]!.digest);
        assert.equal((await fetchManifest(registry, 'selftest/list', older.digest)).status, 200);
        await pushImage(registry, 'selftest/list', 'latest', list, builder);
        assert.deepEqual((await verifyImageComplete(registry, 'selftest/list', 'latest')).digest, list.digest);
      });
    }

    if (auth === 'basic') {
      test('a wrong or missing password gets 401, and the password never reaches a log', async () => {
        const wrong = await fetch(`${registry.url}/v2/`, {
          headers: { authorization: basicAuth(registry.username!, 'wrong') },
        });
        assert.equal(wrong.status, 401);
        assert.equal((await fetch(`${registry.url}/v2/`)).status, 401);
        assert.equal((await fetchManifest({ ...registry, password: 'wrong' }, 'selftest/docker', 'v1')).status, 401);
        const right = await fetch(`${registry.url}/v2/`, {
          headers: { authorization: basicAuth(registry.username!, registry.password!) },
        });
        assert.equal(right.status, 200);
        assert.equal(registry.username, 'tester');
        assert.ok(registry.password!.length >= 16);
      });
    }

    if (auth === 'token') {
      test('tokens carry a libtrust kid and only the granted scope', async () => {
        const server = registry.tokenServer!;
        assert.match(server.keyId, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
        const credentials = basicAuth(registry.username!, registry.password!);
        const answer = await fetch(`${server.url}?service=test-registry&scope=repository:selftest/docker:pull`, {
          headers: { authorization: credentials },
        });
        assert.equal(answer.status, 200);
        const { token, access_token, expires_in, issued_at } = (await answer.json()) as Record<string, unknown>;
        assert.equal(token, access_token);
        assert.equal(expires_in, 300);
        assert.equal(typeof issued_at, 'string');
        const [header, claims] = String(token)
          .split('.')
          .slice(0, 2)
          .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
        assert.equal(header.alg, 'RS256');
        assert.equal(header.kid, server.keyId);
        assert.equal(claims.aud, 'test-registry');
        assert.equal(claims.iss, 'test-issuer');
        assert.deepEqual(claims.access, [{ type: 'repository', name: 'selftest/docker', actions: ['pull'] }]);

        const bearer = { authorization: `Bearer ${String(token)}` };
        assert.equal(
          (await fetch(`${registry.url}/v2/selftest/docker/manifests/v1`, { method: 'HEAD', headers: bearer })).status,
          200,
        );
        const upload = await fetch(`${registry.url}/v2/selftest/docker/blobs/uploads/`, {
          method: 'POST',
          headers: bearer,
        });
        assert.ok(upload.status === 401 || upload.status === 403, `pull-only POST answered ${upload.status}`);

        const wrong = await fetch(`${server.url}?service=test-registry&scope=repository:x:pull`, {
          headers: { authorization: basicAuth(registry.username!, 'wrong') },
        });
        assert.equal(wrong.status, 401);
        assert.equal((await fetch(`${server.url}?service=test-registry&scope=repository:x:pull`)).status, 401);

        const form = await fetch(server.url, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'password',
            username: registry.username!,
            password: registry.password!,
            service: 'test-registry',
            scope: 'repository:selftest/docker:pull,push',
          }),
        });
        assert.equal(form.status, 200);
        assert.equal(typeof ((await form.json()) as { access_token?: unknown }).access_token, 'string');

        assert.ok(
          server.requests.some((r) => r.user === 'tester' && r.scope.includes('repository:selftest/docker:pull,push')),
        );
        assert.ok(!JSON.stringify(server.requests).includes(registry.password!), 'requests never record the password');
      });

      test('a token stops working after expires_in', async () => {
        const shortLived = await startRegistry({ auth: 'token', tokenExpiresInSeconds: 1 });
        try {
          const answer = await fetch(`${shortLived.tokenServer!.url}?service=test-registry&scope=repository:r:pull`, {
            headers: { authorization: basicAuth(shortLived.username!, shortLived.password!) },
          });
          const { token } = (await answer.json()) as { token: string };
          const probe = () =>
            fetch(`${shortLived.url}/v2/r/tags/list`, { headers: { authorization: `Bearer ${token}` } });
          assert.equal((await probe()).status, 404, 'valid token, unknown repository');
          await new Promise((resolve) => setTimeout(resolve, 2100));
          assert.equal((await probe()).status, 401);
        } finally {
          await shortLived.stop();
        }
      });

      test('anonymous requests get pull-only tokens when anonymousPull is set', async () => {
        const server = await startTokenServer({ service: 's', issuer: 'i', users: {}, anonymousPull: true });
        try {
          const answer = await fetch(`${server.url}?service=s&scope=repository:r:pull,push`);
          assert.equal(answer.status, 200);
          const { token } = (await answer.json()) as { token: string };
          const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
          assert.deepEqual(claims.access, [{ type: 'repository', name: 'r', actions: ['pull'] }]);
          assert.equal(claims.sub, '');
        } finally {
          await server.stop();
        }
      });
    }
  });
}

describe('proxy', () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ auth: 'basic', tmpfs: true });
  });
  after(() => registry.stop());

  test('forwards with the Host unchanged, counts requests, never records credentials', async () => {
    const proxy = await startProxy({ target: registry.url });
    try {
      const image = await builder.image({ format: 'oci', layers: 2, layerSize: 30_000 });
      await pushImage({ ...registry, url: proxy.url }, 'selftest/proxied', 'v1', image, builder);
      const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('_state='));
      assert.equal(puts.length, 3, 'config and two layers, through the proxy via absolute Locations');
      assert.ok(puts.every((r) => r.status === 201 && r.authorization === 'Basic'));
      assert.ok(proxy.requests.some((r) => r.status === 401 && r.authorization === undefined));
      assert.ok(!JSON.stringify(proxy.requests).includes(registry.password!));
      assert.ok(
        !JSON.stringify(proxy.requests).includes(Buffer.from(`tester:${registry.password!}`).toString('base64')),
      );
      assert.equal((await fetchManifest(registry, 'selftest/proxied', 'v1')).digest, image.digest);
      proxy.reset();
      assert.equal(proxy.requests.length, 0);
    } finally {
      await proxy.stop();
    }
  });

  test('injects statuses, resets and truncated bodies', async () => {
    let failures = 1;
    const layer = await builder.layer({ size: 200_000 });
    const image = await builder.image({ format: 'oci', layers: [layer] });
    await pushImage(registry, 'selftest/faults', 'v1', image, builder);
    const blobPath = `/v2/selftest/faults/blobs/${layer.digest}`;
    const proxy = await startProxy({
      target: registry.url,
      fault: (req) => {
        if (req.path === '/v2/' && failures-- > 0)
          return { status: 503, headers: { 'retry-after': '1' }, body: 'busy' };
        if (req.path === '/v2/reset') return { reset: true };
        if (req.path === blobPath && req.method === 'GET') return { resetAfterBytes: 1000 };
        return undefined;
      },
    });
    try {
      const auth = { authorization: basicAuth(registry.username!, registry.password!) };
      const busy = await fetch(`${proxy.url}/v2/`, { headers: auth });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.equal(await busy.text(), 'busy');
      assert.equal((await fetch(`${proxy.url}/v2/`, { headers: auth })).status, 200);
      assert.deepEqual(
        proxy.requests.map((r) => r.status),
        [503, 200],
      );

      await assert.rejects(fetch(`${proxy.url}/v2/reset`));

      const cut = await fetch(`${proxy.url}${blobPath}`, { headers: auth });
      assert.equal(cut.status, 200);
      assert.equal(cut.headers.get('content-length'), String(layer.size));
      await assert.rejects(cut.arrayBuffer());
    } finally {
      await proxy.stop();
    }
  });

  test('redirects blob reads to a separate origin', async () => {
    const layer = await builder.layer({ size: 10_000, seed: 'redirect' });
    const origin = await startBlobOrigin(builder);
    const proxy = await startProxy({
      target: registry.url,
      fault: (req) =>
        req.path.includes('/blobs/sha256:')
          ? { redirect: `${origin.url}/blobs/sha256/${req.path.split('sha256:')[1]}?X-Signature=abc` }
          : undefined,
    });
    try {
      const first = await fetch(`${proxy.url}/v2/any/blobs/${layer.digest}`, { redirect: 'manual' });
      assert.equal(first.status, 307);
      const location = first.headers.get('location')!;
      assert.ok(location.startsWith(origin.url));
      const body = Buffer.from(await (await fetch(location)).arrayBuffer());
      assert.equal(sha256(body), layer.digest);
      const ranged = await fetch(location, { headers: { range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), body.subarray(100, 200));
      assert.deepEqual(
        origin.requests.map((r) => r.authorization),
        [false, false],
      );
      assert.equal((await fetch(`${origin.url}/blobs/sha256/${'0'.repeat(64)}`)).status, 404);
    } finally {
      await proxy.stop();
      await origin.stop();
    }
  });
});

describe('registry lifecycle', () => {
  test('restart keeps port and storage; stop leaves no process and no storage', async () => {
    const registry = await startRegistry({ tmpfs: true });
    const image = await builder.image({ format: 'docker' });
    await pushImage(registry, 'selftest/life', 'v1', image, builder);
    const firstPid = registry.pid;

    registry.kill();
    assert.ok(await isGone(firstPid));
    await assert.rejects(fetch(`${registry.url}/v2/`));
    await registry.restart();
    assert.notEqual(registry.pid, firstPid);
    assert.equal((await fetchManifest(registry, 'selftest/life', 'v1')).digest, image.digest);

    const { pid, storageDir } = registry;
    assert.ok(storageDir.startsWith('/dev/shm/'));
    await registry.stop();
    await registry.stop();
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(storageDir), false);
    await assert.rejects(registry.restart());
  });

  test('a caller-provided storage directory is kept', async () => {
    const storageDir = join(builder.dir, 'kept-storage');
    const registry = await startRegistry({ storageDir });
    await pushImage(registry, 'selftest/kept', 'v1', await builder.image({ format: 'oci' }), builder);
    await registry.stop();
    assert.ok(existsSync(join(storageDir, 'docker', 'registry', 'v2')));
  });
});
