import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  buildImage,
  indexBytes,
  listTags,
  makeTestCertificates,
  MEDIA,
  sha256,
  startHostileRegistry,
  startRegistry,
  writeDrip,
  writeEndless,
  type HostileRegistry,
  type RunningRegistry,
  type TestCertificates,
} from '../harness/index.js';
import {
  assertFailed,
  assertNoSecret,
  CANARY_PASSWORD,
  CANARY_TOKEN,
  CANARY_USER,
  filesUnder,
  hostileSync,
  mib,
  rssTable,
  startSink,
} from './hostile-support.js';
import { runCli } from './support.js';

/**
 * The hostile-registry suite (docs/security.md, issue 14): each case runs the CLI against a programmable malicious
 * registry on loopback, with one honest image from the same server in the same run, and checks the outcome, that the
 * honest image is copied, that no tag the attacker chose appears at the destination, that no canary secret appears
 * in stdout, stderr, the log, the lock file or --json, and the peak RSS.
 */

describe('hostile registries', () => {
  let dst: RunningRegistry;
  let certs: TestCertificates;
  const servers: Array<{ stop(): Promise<void> }> = [];

  const hostile = async (options: Parameters<typeof startHostileRegistry>[0] = {}): Promise<HostileRegistry> => {
    const server = await startHostileRegistry({
      auth: { kind: 'basic', username: CANARY_USER, password: CANARY_PASSWORD },
      ...options,
    });
    servers.push(server);
    server.addImage('good/app', 'v1', `good-${server.host}`);
    return server;
  };
  /** The honest image's rule and the check that it was copied. */
  const good = (evil: HostileRegistry, name: string) => ({
    [`${evil.host}/good/app:v1`]: `${dst.host}/${name}/good:v1`,
  });

  before(async () => {
    [dst, certs] = await Promise.all([startRegistry(), makeTestCertificates()]);
  });
  after(async () => {
    await Promise.all([dst?.stop(), ...servers.map((s) => s.stop())]);
    const lines = rssTable.map(
      (r) => `${r.name.padEnd(60)} ${String(mib(r.rss)).padStart(4)} MiB  ${r.seconds.toFixed(1)} s`,
    );
    process.stdout.write(`# hostile-registry peak RSS per attack:\n${lines.map((l) => `#   ${l}`).join('\n')}\n`);
  });

  const assertGoodCopied = async (name: string, run: Awaited<ReturnType<typeof hostileSync>>) => {
    assert.equal(run.result(`/${name}/good:v1`).status, 'copied', JSON.stringify(run.result(`/${name}/good:v1`)));
    assert.deepEqual(await listTags(dst, `${name}/good`), ['v1']);
  };

  test('token crossing registries: a Bearer token obtained for one registry is never offered to another', async () => {
    // One token server (B's realm) that hands out B's token to B's credentials; registry A names B's realm and service.
    const issued: string[] = [];
    const tokenServer: Server = createServer((req, res) => {
      issued.push(req.headers.authorization ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          token:
            req.headers.authorization === `Basic ${Buffer.from('b-user:b-password').toString('base64')}`
              ? CANARY_TOKEN
              : 'token-for-a',
          expires_in: 300,
        }),
      );
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
    servers.push({ stop: () => new Promise<void>((r) => tokenServer.close(() => r())) });
    const realm = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    const b = await hostile({ auth: { kind: 'bearer', realm, service: 'b-service', token: CANARY_TOKEN } });
    b.addImage('team/app', 'v1', 'b-image');
    let bServed!: () => void;
    const bDone = new Promise<void>((r) => (bServed = r));
    const a = await hostile({
      auth: { kind: 'bearer', realm, service: 'b-service', token: 'token-for-a' },
      // A answers only once B's token is cached, so a shared cache would offer it.
      handle: async (_req, _res, request) => {
        if (request.url.pathname !== '/v2/') await bDone;
        return false;
      },
    });
    a.addImage('team/app', 'v1', 'a-image');
    // Both registries get credentials from the same docker credential helper: one credential source.
    const dockerDir = await mkdtemp(join(tmpdir(), 'swr-hostile-docker-'));
    const helper = join(dockerDir, 'docker-credential-hostiletest');
    await writeFile(
      helper,
      `#!/bin/sh\nread host\ncase "$host" in\n  ${b.host}) printf '{"Username":"b-user","Secret":"b-password"}' ;;\n  *) printf '{"Username":"a-user","Secret":"a-password"}' ;;\nesac\n`,
    );
    await chmod(helper, 0o755);
    await writeFile(
      join(dockerDir, 'config.json'),
      JSON.stringify({ credHelpers: { [a.host]: 'hostiletest', [b.host]: 'hostiletest' } }),
    );
    b.requests.length = 0;
    const watcher = setInterval(() => {
      if (
        b.requests.some((r) => r.authorization === `Bearer ${CANARY_TOKEN}` && r.url.pathname.includes('/manifests/'))
      )
        bServed();
    }, 20);
    try {
      const run = await hostileSync(
        'token crossing registries',
        {
          [`${b.host}/team/app:v1`]: `${dst.host}/cross/b:v1`,
          [`${a.host}/team/app:v1`]: `${dst.host}/cross/a:v1`,
        },
        {
          hosts: [dst.host],
          anonymous: [dst.host],
          auth: { [a.host]: { insecure: true }, [b.host]: { insecure: true } },
          env: { DOCKER_CONFIG: dockerDir, PATH: `${dockerDir}:${process.env.PATH}` },
          expectCode: 0,
        },
      );
      assert.equal(run.result('/cross/a:v1').status, 'copied');
      assert.equal(run.result('/cross/b:v1').status, 'copied');
    } finally {
      clearInterval(watcher);
    }
    assert.equal(
      a.requests.some((r) => r.authorization?.includes(CANARY_TOKEN)),
      false,
      "registry A was never offered B's token",
    );
    assert.ok(
      a.requests.some((r) => r.authorization === 'Bearer token-for-a'),
      'A got its own token',
    );
  });

  test('an index child whose "digest" is a tag fails its image with ERR_INVALID_DIGEST, and no tag is written (registry and oci: destinations)', async () => {
    const evil = await hostile();
    const child = buildImage('child');
    for (const blob of child.blobs) evil.addBlob(blob);
    evil.addManifest('team/multi', child.bytes, child.mediaType, ['prod']);
    const index = indexBytes([
      { digest: 'prod', size: child.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    evil.addManifest('team/multi', index, MEDIA.ociIndex, ['1.0']);
    const traversal = indexBytes([{ digest: `sha256:../../../../../tmp/${'a'.repeat(40)}`, size: 10 }]);
    evil.addManifest('team/path', traversal, MEDIA.ociIndex, ['1.0']);
    const layout = await mkdtemp(join(tmpdir(), 'swr-hostile-layout-'));
    const run = await hostileSync(
      'descriptor digest that is a tag / a path',
      {
        ...good(evil, 'tagdigest'),
        [`${evil.host}/team/multi:1.0`]: [`${dst.host}/tagdigest/multi:1.0`, `oci:${layout}/out:1.0`],
        [`${evil.host}/team/path:1.0`]: `oci:${layout}/path:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host] },
    );
    await assertGoodCopied('tagdigest', run);
    assertFailed(
      run.result('/tagdigest/multi:1.0'),
      'ERR_INVALID_DIGEST',
      /team\/multi.*manifests\[0\]\.digest "prod"/,
    );
    assertFailed(run.result('/out:1.0'), 'ERR_INVALID_DIGEST');
    assertFailed(run.result('/path:1.0'), 'ERR_INVALID_DIGEST');
    assert.deepEqual(await listTags(dst, 'tagdigest/multi'), [], 'no "prod" (or any) tag at the destination');
    const written = await filesUnder(layout);
    assert.equal(
      written.some((f) => f.includes('..') || f.includes('prod')),
      false,
      written.join(', '),
    );
    const indexJson = await readFile(join(layout, 'out', 'index.json'), 'utf8').catch(() => '{"manifests":[]}');
    assert.equal((JSON.parse(indexJson) as { manifests: unknown[] }).manifests.length, 0);
  });

  test('a blob whose Content-Length differs from its descriptor fails that image only; summary, lock and --json are written', async () => {
    const bad = buildImage('lying-blob');
    const evil = await hostile({
      handle(req, res, request) {
        const layer = bad.blobs[1]!;
        if (request.url.pathname.endsWith(`/blobs/${sha256(layer)}`) && req.method === 'GET') {
          res.writeHead(200, { 'content-length': String(layer.length + 4096) });
          res.end(Buffer.concat([layer, Buffer.alloc(4096)]));
          return true;
        }
        return false;
      },
    });
    for (const blob of bad.blobs) evil.addBlob(blob);
    evil.addManifest('team/bad', bad.bytes, bad.mediaType, ['1.0']);
    const run = await hostileSync(
      'Content-Length != descriptor size',
      {
        ...good(evil, 'length'),
        [`${evil.host}/team/bad:1.0`]: `${dst.host}/length/bad:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host], args: ['--retries', '1'] },
    );
    await assertGoodCopied('length', run);
    assertFailed(run.result('/length/bad:1.0'), 'ERR_SIZE_MISMATCH', /team\/bad/);
    assert.deepEqual(await listTags(dst, 'length/bad'), []);
    assert.equal(run.json.summary.failed, 1);
  });

  test('a registry that echoes the Authorization header in its errors gets no secret printed', async () => {
    const evil = await hostile({
      handle(req, res, request) {
        if (request.url.pathname.startsWith('/v2/team/echo/') && req.headers.authorization) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              errors: [
                {
                  code: 'DENIED',
                  message: `you sent ${req.headers.authorization} (${Buffer.from(req.headers.authorization.split(' ')[1] ?? '', 'base64').toString()})`,
                },
              ],
            }),
          );
          return true;
        }
        return false;
      },
    });
    const run = await hostileSync(
      'Authorization echoed in an error body',
      {
        ...good(evil, 'echo'),
        [`${evil.host}/team/echo:1.0`]: `${dst.host}/echo/x:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host] },
    );
    await assertGoodCopied('echo', run);
    assertFailed(run.result('/echo/x:1.0'), 'ERR_REGISTRY_RESPONSE', /team\/echo/);
    assert.match(run.result('/echo/x:1.0').error!.message, /\*\*\*/, 'the echoed secret is shown redacted');
  });

  test('never-ending, oversized and dripping bodies: bounded reads, the image fails, the others complete', async () => {
    const evil = await hostile({
      async handle(req, res, request, server) {
        const path = request.url.pathname;
        if (!req.headers.authorization) return false;
        if (path === '/v2/team/endless-error/manifests/1.0') {
          res.writeHead(400, { 'content-type': 'text/plain' });
          void writeEndless(server, res, Buffer.alloc(64 * 1024, 'x'));
          return true;
        }
        if (path === '/v2/team/endless-manifest/manifests/1.0') {
          res.writeHead(200, { 'content-type': MEDIA.ociManifest });
          void writeEndless(server, res, Buffer.alloc(64 * 1024, ' '));
          return true;
        }
        if (path === '/v2/team/huge-manifest/manifests/1.0') {
          res.writeHead(200, { 'content-type': MEDIA.ociManifest, 'content-length': String(2 * 1024 ** 3) });
          void writeEndless(server, res, Buffer.alloc(64 * 1024, ' '));
          return true;
        }
        if (path === '/v2/team/drip/manifests/1.0') {
          res.writeHead(200, { 'content-type': MEDIA.ociManifest });
          writeDrip(server, res, Buffer.alloc(1024 * 1024, ' '), 1, 200);
          return true;
        }
        return false;
      },
    });
    const run = await hostileSync(
      'endless / oversized / dripping bodies',
      {
        ...good(evil, 'bodies'),
        [`${evil.host}/team/endless-error:1.0`]: `${dst.host}/bodies/endless-error:1.0`,
        [`${evil.host}/team/endless-manifest:1.0`]: `${dst.host}/bodies/endless-manifest:1.0`,
        [`${evil.host}/team/huge-manifest:1.0`]: `${dst.host}/bodies/huge-manifest:1.0`,
        [`${evil.host}/team/drip:1.0`]: `${dst.host}/bodies/drip:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host], args: ['--retries', '0', '--timeout', '8s'] },
    );
    await assertGoodCopied('bodies', run);
    assertFailed(run.result('/bodies/endless-error:1.0'), 'ERR_REGISTRY_RESPONSE', /team\/endless-error/);
    assertFailed(run.result('/bodies/endless-manifest:1.0'), 'ERR_MANIFEST_TOO_LARGE', /team\/endless-manifest/);
    assertFailed(run.result('/bodies/huge-manifest:1.0'), 'ERR_MANIFEST_TOO_LARGE', /team\/huge-manifest/);
    assertFailed(run.result('/bodies/drip:1.0'), 'ERR_ABORTED', /time limit/);
    assert.ok(
      evil.bodyBytesSent < 256 * 1024 * 1024,
      `the client read ${mib(evil.bodyBytesSent)} MiB of hostile bodies`,
    );
  });

  test('tag lists: an endless Link chain, a Link loop, a 130,000-tag page, a wrong shape and hostile names', async () => {
    const many = Array.from({ length: 130_000 }, (_, i) => `t${i}`);
    const evil = await hostile({
      handle(req, res, request) {
        const path = request.url.pathname;
        if (!req.headers.authorization) return false;
        const page = Number(request.url.searchParams.get('page') ?? '0');
        const json = (body: unknown, link?: string) => {
          res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) });
          res.end(JSON.stringify(body));
          return true;
        };
        if (path === '/v2/team/chain/tags/list') {
          return json(
            { name: 'team/chain', tags: Array.from({ length: 1000 }, (_, i) => `p${page}-${i}-${'x'.repeat(90)}`) },
            `</v2/team/chain/tags/list?page=${page + 1}>; rel="next"`,
          );
        }
        if (path === '/v2/team/loop/tags/list')
          return json({ name: 'team/loop', tags: ['a'] }, '</v2/team/loop/tags/list?n=1>; rel="next"');
        if (path === '/v2/team/many/tags/list') return json({ name: 'team/many', tags: [...many, 'v1'] });
        if (path === '/v2/team/shape/tags/list') return json({ name: 'team/shape', tags: 'v1,latest' });
        if (path === '/v2/team/names/tags/list')
          return json({
            name: 'team/names',
            tags: [
              'v1',
              'v2\n::set-output name=x::y',
              `v3\u001b]0;title\u0007`,
              '../../../etc',
              `sha256:${'0'.repeat(64)}`,
            ],
          });
        return false;
      },
    });
    const v1 = evil.addImage('team/many', 'v1', 'many-v1');
    evil.addManifest('team/names', v1.bytes, v1.mediaType, ['v1']);
    const run = await hostileSync(
      'tag lists (chain, loop, 130k page, shape, names)',
      {
        ...good(evil, 'tags'),
        [`${evil.host}/team/chain`]: `${dst.host}/tags/chain`,
        [`${evil.host}/team/loop`]: `${dst.host}/tags/loop`,
        [`${evil.host}/team/many:/^v1$/`]: `${dst.host}/tags/many`,
        [`${evil.host}/team/shape`]: `${dst.host}/tags/shape`,
        [`${evil.host}/team/names`]: `${dst.host}/tags/names`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host] },
    );
    await assertGoodCopied('tags', run);
    const failure = (repo: string) => run.json.generateFailures.find((f) => f.source.endsWith(repo));
    assert.equal(failure('/team/chain')?.error.code, 'ERR_LIMIT_EXCEEDED', JSON.stringify(run.json.generateFailures));
    assert.match(failure('/team/chain')!.error.message, /team\/chain.*tag(Total|Pages) budget/);
    assert.equal(failure('/team/loop')?.error.code, 'ERR_REGISTRY_RESPONSE');
    assert.match(failure('/team/loop')!.error.message, /loop|again/);
    assert.equal(failure('/team/shape')?.error.code, 'ERR_REGISTRY_RESPONSE');
    assert.match(failure('/team/shape')!.error.message, /team\/shape.*tags/);
    assert.equal(run.result('/tags/many:v1').status, 'copied');
    assert.equal(run.result('/tags/names:v1').status, 'copied');
    assert.deepEqual(await listTags(dst, 'tags/names'), ['v1'], 'only the valid tag was copied');
    assert.ok(
      run.json.warnings.some((w) => /team\/names/.test(w) && /not valid tag names/.test(w)),
      run.json.warnings.join('\n'),
    );
  });

  test('referrers: an endless Link chain, a 20,000-entry page and traversal digests fail the image, bounded', async () => {
    const evil = await hostile({
      handle(req, res, request) {
        const path = request.url.pathname;
        if (!req.headers.authorization || !path.includes('/referrers/')) return false;
        const page = Number(request.url.searchParams.get('page') ?? '0');
        const descriptor = (i: number, digest = sha256(Buffer.from(`${page}-${i}`))) => ({
          mediaType: MEDIA.ociManifest,
          digest,
          size: 100,
          artifactType: 'application/example',
        });
        const answer = (manifests: unknown[], link?: string) => {
          res.writeHead(200, { 'content-type': MEDIA.ociIndex, ...(link ? { link } : {}) });
          res.end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }));
          return true;
        };
        if (path.startsWith('/v2/team/refchain/'))
          return answer(
            Array.from({ length: 500 }, (_, i) => descriptor(i)),
            `<${path}?page=${page + 1}>; rel="next"`,
          );
        if (path.startsWith('/v2/team/refwide/'))
          return answer(Array.from({ length: 20_000 }, (_, i) => descriptor(i)));
        if (path.startsWith('/v2/team/refpath/')) return answer([descriptor(0, 'sha256:../../../../etc/passwd')]);
        return answer([]);
      },
    });
    for (const repo of ['refchain', 'refwide', 'refpath']) evil.addImage(`team/${repo}`, '1.0', `ref-${repo}`);
    const run = await hostileSync(
      'referrers (chain, 20k page, traversal digest)',
      {
        ...good(evil, 'refs'),
        [`${evil.host}/team/refchain:1.0`]: `${dst.host}/refs/chain:1.0`,
        [`${evil.host}/team/refwide:1.0`]: `${dst.host}/refs/wide:1.0`,
        [`${evil.host}/team/refpath:1.0`]: `${dst.host}/refs/path:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host], args: ['--with-referrers'] },
    );
    await assertGoodCopied('refs', run);
    assertFailed(run.result('/refs/chain:1.0'), 'ERR_LIMIT_EXCEEDED', /team\/refchain|refs\/chain/);
    assertFailed(run.result('/refs/wide:1.0'), 'ERR_LIMIT_EXCEEDED', /team\/refwide|refs\/wide/);
    assertFailed(run.result('/refs/path:1.0'), 'ERR_INVALID_DIGEST', /team\/refpath|refs\/path/);
  });

  test('nested index fan-out and hundreds of distinct configs stay under the memory budget', async () => {
    const evil = await hostile();
    const sink = await startSink();
    servers.push(sink);
    // 2 indexes of 60 children each, every child manifest 1.5 MiB (padded with an annotation): 180 MiB of manifests.
    const layer = Buffer.from('shared layer');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    evil.addBlob(layer);
    evil.addBlob(config);
    const pad = 'p'.repeat(1536 * 1024);
    const inner = [0, 1].map((n) => {
      const children = Array.from({ length: 60 }, (_, i) => {
        const bytes = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA.ociManifest,
            config: { mediaType: MEDIA.ociConfig, digest: sha256(config), size: config.length },
            layers: [{ mediaType: MEDIA.ociLayer, digest: sha256(layer), size: layer.length }],
            annotations: { pad: `${n}-${i}-${pad}` },
          }),
        );
        return { digest: evil.addManifest('team/fan', bytes, MEDIA.ociManifest), size: bytes.length };
      });
      const bytes = indexBytes(children);
      return {
        digest: evil.addManifest('team/fan', bytes, MEDIA.ociIndex),
        size: bytes.length,
        mediaType: MEDIA.ociIndex,
      };
    });
    evil.addManifest('team/fan', indexBytes(inner), MEDIA.ociIndex, ['1.0']);
    // 60 images with distinct 3.5 MiB configs: 210 MiB if every config stayed cached.
    const configsImages: Record<string, string> = {};
    for (let i = 0; i < 60; i++) {
      const big = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', pad: `${i}-${'c'.repeat(3584 * 1024)}` }),
      );
      evil.addBlob(big);
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: MEDIA.ociConfig, digest: sha256(big), size: big.length },
          layers: [{ mediaType: MEDIA.ociLayer, digest: sha256(layer), size: layer.length }],
        }),
      );
      evil.addManifest(`team/cfg${i}`, bytes, MEDIA.ociManifest, ['1.0']);
      configsImages[`${evil.host}/team/cfg${i}:1.0`] = `${sink.host}/cfg/c${i}:1.0`;
    }
    const run = await hostileSync(
      'nested index fan-out + 60 distinct 3.5 MiB configs',
      {
        [`${evil.host}/good/app:v1`]: `${sink.host}/fan/good:v1`,
        [`${evil.host}/team/fan:1.0`]: `${sink.host}/fan/fan:1.0`,
        ...configsImages,
      },
      { hosts: [evil.host, sink.host], anonymous: [sink.host], expectCode: 0 },
    );
    assert.equal(run.json.summary.copied, 62);
    assert.ok(sink.manifestsPut >= 123 + 60, `${sink.manifestsPut} manifests written`);
  });

  test('redirect and realm tricks: credentials never follow a redirect or a realm to another origin they do not belong to', async () => {
    const collector = await startHostileRegistry({
      handle(_req, res) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end('not the blob');
        return true;
      },
    });
    servers.push(collector);
    const redirected = buildImage('redirected');
    const evil = await hostile({
      handle(req, res, request) {
        if (req.headers.authorization && request.url.pathname.endsWith(`/blobs/${sha256(redirected.blobs[1]!)}`)) {
          res.writeHead(307, { location: `${collector.url}/steal?x=1` });
          res.end();
          return true;
        }
        if (req.headers.authorization && request.url.pathname === '/v2/team/manifest-redirect/manifests/1.0') {
          res.writeHead(307, { location: `${collector.url}/v2/team/manifest-redirect/manifests/1.0` });
          res.end();
          return true;
        }
        return false;
      },
    });
    for (const blob of redirected.blobs) evil.addBlob(blob);
    evil.addManifest('team/redirect', redirected.bytes, redirected.mediaType, ['1.0']);
    // A TLS registry whose Bearer realm is plain HTTP on another origin: the realm gets no credentials.
    const tlsRealmRequests: Array<string | undefined> = [];
    const realmServer: Server = createServer((req, res) => {
      tlsRealmRequests.push(req.headers.authorization);
      res.writeHead(401);
      res.end();
    });
    await new Promise<void>((r) => realmServer.listen(0, '127.0.0.1', r));
    servers.push({ stop: () => new Promise<void>((r) => realmServer.close(() => r())) });
    const tlsEvil = await hostile({
      tls: certs,
      auth: {
        kind: 'bearer',
        realm: `http://127.0.0.1:${(realmServer.address() as AddressInfo).port}/token`,
        service: 'x',
        token: CANARY_TOKEN,
      },
    });
    tlsEvil.addImage('team/realm', '1.0', 'realm');
    const run = await hostileSync(
      'redirect and realm tricks',
      {
        ...good(evil, 'redirect'),
        [`${evil.host}/team/redirect:1.0`]: `${dst.host}/redirect/blob:1.0`,
        [`${evil.host}/team/manifest-redirect:1.0`]: `${dst.host}/redirect/manifest:1.0`,
        [`${tlsEvil.host}/team/realm:1.0`]: `${dst.host}/redirect/realm:1.0`,
      },
      {
        hosts: [evil.host, dst.host],
        anonymous: [dst.host],
        auth: { [tlsEvil.host]: { username: CANARY_USER, password: '${CANARY_PASSWORD}' } },
        env: { NODE_EXTRA_CA_CERTS: certs.caPath },
        args: ['--retries', '0'],
      },
    );
    await assertGoodCopied('redirect', run);
    assert.equal(
      collector.requests.some((r) => r.authorization !== undefined),
      false,
      'the redirect target got no credentials',
    );
    assert.equal(run.result('/redirect/blob:1.0').status, 'failed', "the redirect target's bytes are not the blob");
    assert.equal(run.result('/redirect/manifest:1.0').status, 'failed');
    assert.equal(
      collector.requests.some((r) => r.path.includes('manifest-redirect')),
      false,
      'manifest redirects are not followed',
    );
    assert.equal(run.result('/redirect/realm:1.0').status, 'failed');
    assert.ok(
      tlsRealmRequests.length > 0 && tlsRealmRequests.every((a) => a === undefined),
      'the plain-HTTP realm of a TLS registry got no credentials',
    );
    assert.deepEqual(await listTags(dst, 'redirect/blob'), []);
  });

  test('OCI layout sources: symbolic links out of the layout are refused; --log does not follow a symbolic link', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'swr-hostile-outside-'));
    const secretFile = join(outside, 'secret');
    await writeFile(secretFile, `{"secret": "${CANARY_PASSWORD}"}`);
    const image = buildImage('layout');
    const makeLayout = async (name: string, linkBlob: boolean, linkIndex: boolean) => {
      const dir = join(outside, '..', `${name}-${Date.now()}`);
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      const index = JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: image.mediaType,
            digest: image.digest,
            size: image.bytes.length,
            annotations: { 'org.opencontainers.image.ref.name': '1.0' },
          },
        ],
      });
      if (linkIndex) await symlink(secretFile, join(dir, 'index.json'));
      else await writeFile(join(dir, 'index.json'), index);
      await writeFile(join(dir, 'blobs', 'sha256', image.digest.slice(7)), image.bytes);
      for (const [i, blob] of image.blobs.entries()) {
        const path = join(dir, 'blobs', 'sha256', sha256(blob).slice(7));
        if (linkBlob && i === 1) await symlink(secretFile, path);
        else await writeFile(path, blob);
      }
      return dir;
    };
    const blobLink = await makeLayout('swr-hostile-bloblink', true, false);
    const indexLink = await makeLayout('swr-hostile-indexlink', false, true);
    const evil = await hostile();
    const run = await hostileSync(
      'OCI layout symlinks',
      {
        ...good(evil, 'layout'),
        [`oci:${blobLink}:1.0`]: `${dst.host}/layout/bloblink:1.0`,
        [`oci:${indexLink}:1.0`]: `${dst.host}/layout/indexlink:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host] },
    );
    await assertGoodCopied('layout', run);
    assertFailed(run.result('/layout/bloblink:1.0'), 'ERR_LAYOUT', /symbolic link/);
    assert.equal(run.result('/layout/indexlink:1.0').status, 'failed');
    assert.match(run.result('/layout/indexlink:1.0').error!.message, /symbolic link/);
    assert.deepEqual(await listTags(dst, 'layout/bloblink'), []);

    // --log at a symbolic link: refused before anything is copied; the file it points to is untouched.
    const logLink = join(outside, 'log-link');
    await symlink(secretFile, logLink);
    const dir = await mkdtemp(join(tmpdir(), 'swr-hostile-log-'));
    await writeFile(join(dir, 'images.json'), JSON.stringify(good(evil, 'loglink')));
    await writeFile(
      join(dir, 'auth.json'),
      JSON.stringify({
        [evil.host]: { username: CANARY_USER, password: CANARY_PASSWORD, insecure: true },
        [dst.host]: { insecure: true },
      }),
    );
    const logRun = await runCli([
      'sync',
      '--images',
      join(dir, 'images.json'),
      '--auth',
      join(dir, 'auth.json'),
      '--log',
      logLink,
    ]);
    assert.equal(logRun.code, 2, logRun.stderr);
    assert.match(logRun.stderr, /--log .* is a symbolic link/);
    assert.equal(await readFile(secretFile, 'utf8'), `{"secret": "${CANARY_PASSWORD}"}`);
    assert.deepEqual(await listTags(dst, 'loglink/good'), []);
  });

  test('oci-archive: tar entries with absolute or ".." names are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swr-hostile-tar-'));
    const archive = join(dir, 'evil.tar');
    await writeFile(
      archive,
      tarOf([
        ['oci-layout', '{"imageLayoutVersion":"1.0.0"}'],
        ['../../escape', 'x'],
        ['index.json', '{"schemaVersion":2,"manifests":[]}'],
      ]),
    );
    const evil = await hostile();
    const run = await hostileSync(
      'oci-archive traversal entry names',
      {
        ...good(evil, 'archive'),
        [`oci-archive:${archive}:1.0`]: `${dst.host}/archive/x:1.0`,
      },
      { hosts: [evil.host, dst.host], anonymous: [dst.host] },
    );
    await assertGoodCopied('archive', run);
    assertFailed(run.result('/archive/x:1.0'), 'ERR_LAYOUT', /"\.\.\/\.\.\/escape".*refused/);
    assert.deepEqual(await filesUnder(dir), ['evil.tar']);
  });

  test('no secret and no escape in a plain (not --json) run either', async () => {
    const evil = await hostile();
    evil.tags('good/app').push('v9\u001b[2J');
    const dir = await mkdtemp(join(tmpdir(), 'swr-hostile-plain-'));
    await writeFile(join(dir, 'images.json'), JSON.stringify({ [`${evil.host}/good/app`]: `${dst.host}/plain/good` }));
    await writeFile(
      join(dir, 'auth.json'),
      JSON.stringify({
        [evil.host]: { username: CANARY_USER, password: CANARY_PASSWORD, insecure: true },
        [dst.host]: { insecure: true },
      }),
    );
    const run = await runCli([
      'sync',
      '--images',
      join(dir, 'images.json'),
      '--auth',
      join(dir, 'auth.json'),
      '--log',
      join(dir, 'log'),
    ]);
    assert.equal(run.code, 0, run.stderr);
    assertNoSecret('plain run', {
      stdout: run.stdout,
      stderr: run.stderr,
      log: await readFile(join(dir, 'log'), 'utf8'),
    });
    assert.deepEqual(await listTags(dst, 'plain/good'), ['v1']);
  });
});

/** A ustar archive of `[name, content]` entries, names written as given (a hostile archive). */
function tarOf(entries: ReadonlyArray<readonly [string, string]>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of entries) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const body = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
    body.write(content);
    blocks.push(header, body);
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
