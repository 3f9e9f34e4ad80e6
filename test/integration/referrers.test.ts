import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  fetchManifest,
  ImageBuilder,
  listTags,
  pushImage,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type Fault,
  type Proxy,
  type ProxiedRequest,
  type RegistryAuth,
  type RegistryEndpoint,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

/**
 * `--with-referrers` (copy, sync, plan, and the mirror spec's `referrers`) against real registries: Debian's
 * distribution 2.8.2, which has no referrers API, so the source holds what oras and cosign push to such a registry:
 * cosign's `sha256-<hex>.sig/.att/.sbom` tags, and OCI 1.1 artifacts with `subject` listed in `sha256-<hex>`
 * referrers-tag indexes. Every referrer and tag at the destination is compared byte for byte with the source and
 * walked to its blobs; reruns are counted through a proxy and must PUT nothing.
 *
 * The referrers API branch needs a registry that implements `GET /v2/<name>/referrers/<digest>`, which 2.8.2 does
 * not: a loopback server in front of a real registry implements that one endpoint, indexing the manifests with
 * `subject` PUT through it as an OCI 1.1 registry does, and forwards everything else.
 */

interface SyncJson {
  summary: { images: number; copied: number; unchanged: number; failed: number };
  images: ImageResult[];
}
interface PlanJson {
  entries: Array<{
    destination: string;
    status: string;
    referrers?: { found: number; missing: number; skipped: number };
  }>;
}

const SPDX = 'application/spdx+json';
const SIGNATURE = 'application/vnd.example.signature.v1+json';

/** What the source holds, relative to one image. */
interface Seeded {
  index: BuiltIndex;
  amd64: BuiltManifest;
  /** cosign tags: a signature and an attestation of the index, an SBOM of the amd64 child. */
  sig: BuiltManifest;
  att: BuiltManifest;
  childSbom: BuiltManifest;
  /** OCI 1.1 artifacts: an SBOM of the index, a signature of the amd64 child. */
  sbom: BuiltManifest;
  childSig: BuiltManifest;
  /** Referrers of the SBOM (level 2): an OCI 1.1 signature and a cosign `.sig`. */
  sbomSig: BuiltManifest;
  sbomCosignSig: BuiltManifest;
  /** Level 3 (a signature of the SBOM's signature): beyond the bound, never copied. */
  tooDeep: BuiltManifest;
  /** Another image of the repository with its own signature: never copied with `1.0`. */
  other: BuiltManifest;
  otherSig: BuiltManifest;
}

function digestTag(digest: string, suffix = ''): string {
  return `${digest.replace(':', '-')}${suffix}`;
}

async function artifacts(builder: ImageBuilder, seed: string) {
  const index = await builder.multiArch({ format: 'oci', layerSize: 16 * 1024, seed });
  const amd64 = index.children.find((c) => c.platform?.architecture === 'amd64')!;
  const spdx = (name: string) =>
    Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name, packages: [] }));
  const signing = (digest: string) =>
    Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': 'harness/app' },
          image: { 'docker-manifest-digest': digest },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
  const signatureOf = (subject: BuiltManifest | BuiltIndex, tag: string) =>
    builder.artifact({
      artifactType: SIGNATURE,
      subject,
      seed: `${seed}/${tag}`,
      payload: {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        bytes: signing(subject.digest),
        annotations: { 'dev.cosignproject.cosign/signature': tag },
      },
    });
  const sbom = await builder.artifact({
    artifactType: SPDX,
    subject: index,
    seed: `${seed}/sbom`,
    payload: { mediaType: SPDX, bytes: spdx(`${seed}-index`) },
  });
  const childSig = await signatureOf(amd64, 'child');
  const sbomSig = await signatureOf(sbom, 'sbom');
  const tooDeep = await signatureOf(sbomSig, 'deep');
  return {
    index,
    amd64,
    sbom,
    childSig,
    sbomSig,
    tooDeep,
    sig: await builder.cosign({ kind: 'sig', subject: index, seed }),
    att: await builder.cosign({ kind: 'att', subject: index, seed }),
    childSbom: await builder.cosign({ kind: 'sbom', subject: amd64, seed }),
    sbomCosignSig: await builder.cosign({ kind: 'sig', subject: sbom, seed }),
  };
}

/**
 * The source as a client leaves it on a registry without the referrers API: the image, cosign tags, and each
 * artifact with `subject` pushed by digest plus the `sha256-<hex>` index listing it.
 */
async function seedFallback(
  src: RegistryEndpoint,
  repository: string,
  builder: ImageBuilder,
  seed: string,
): Promise<Seeded> {
  const a = await artifacts(builder, seed);
  const other = await builder.image({ format: 'oci', layerSize: 8 * 1024, seed: `${seed}/other` });
  const otherSig = await builder.cosign({ kind: 'sig', subject: other, seed: `${seed}/other` });
  await pushImage(src, repository, '1.0', a.index, builder);
  await pushImage(src, repository, 'other', other, builder);
  const referrersIndex = async (subject: { digest: string }, listed: BuiltManifest[]) =>
    pushImage(
      src,
      repository,
      digestTag(subject.digest),
      await builder.index({ format: 'oci', manifests: listed }),
      builder,
    );
  await Promise.all([
    pushImage(src, repository, digestTag(a.index.digest, '.sig'), a.sig, builder),
    pushImage(src, repository, digestTag(a.index.digest, '.att'), a.att, builder),
    pushImage(src, repository, digestTag(a.amd64.digest, '.sbom'), a.childSbom, builder),
    pushImage(src, repository, digestTag(a.sbom.digest, '.sig'), a.sbomCosignSig, builder),
    pushImage(src, repository, digestTag(other.digest, '.sig'), otherSig, builder),
    referrersIndex(a.index, [a.sbom]),
    referrersIndex(a.amd64, [a.childSig]),
    referrersIndex(a.sbom, [a.sbomSig]),
    referrersIndex(a.sbomSig, [a.tooDeep]),
  ]);
  return { ...a, other, otherSig };
}

/** Tags a complete `--with-referrers` copy of `1.0` writes, and the referrer manifests it copies. */
function expected(s: Seeded) {
  return {
    tags: [
      '1.0',
      digestTag(s.index.digest, '.sig'),
      digestTag(s.index.digest, '.att'),
      digestTag(s.amd64.digest, '.sbom'),
      digestTag(s.sbom.digest, '.sig'),
      digestTag(s.index.digest),
      digestTag(s.amd64.digest),
      digestTag(s.sbom.digest),
    ].sort(),
    referrers: [s.sig, s.att, s.childSbom, s.sbom, s.childSig, s.sbomSig, s.sbomCosignSig],
  };
}

/** Every tag and referrer at the destination holds the source's bytes and is complete down to its blobs. */
async function assertMirrored(
  src: RegistryEndpoint,
  srcRepo: string,
  dst: RegistryEndpoint,
  dstRepo: string,
  want: ReturnType<typeof expected>,
): Promise<void> {
  assert.deepEqual((await listTags(dst, dstRepo)).sort(), want.tags);
  for (const tag of want.tags) {
    const [from, to] = await Promise.all([fetchManifest(src, srcRepo, tag), fetchManifest(dst, dstRepo, tag)]);
    assert.equal(to.status, 200, `${dstRepo}:${tag}`);
    assert.equal(to.digest, from.digest, `${dstRepo}:${tag} has the source's digest`);
    assert.deepEqual(to.bytes, from.bytes, `${dstRepo}:${tag} is byte-identical`);
    assert.deepEqual((await verifyImageComplete(dst, dstRepo, tag)).missing, [], `${dstRepo}:${tag} is complete`);
  }
  for (const m of want.referrers) {
    const check = await verifyImageComplete(dst, dstRepo, m.digest);
    assert.equal(check.digest, m.digest, `referrer ${m.digest} is at the destination with its digest`);
    assert.deepEqual(check.missing, [], `referrer ${m.digest} is complete`);
  }
}

/** Requests that write: a rerun must send none. */
function writes(proxy: Proxy): string[] {
  return proxy.requests
    .filter((r) => ['PUT', 'POST', 'PATCH', 'DELETE'].includes(r.method))
    .map((r) => `${r.method} ${r.path}`);
}

for (const mode of ['none', 'token'] as RegistryAuth[]) {
  describe(`--with-referrers on registries without the referrers API (cosign tags, referrers tag schema), ${mode} auth`, () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let dstProxy: Proxy;
    /** A fault the destination proxy injects, when set. */
    let fault: ((req: ProxiedRequest) => Fault | undefined) | undefined;
    let builder: ImageBuilder;
    let seeded: Seeded;
    let auth: { file: string; env: Record<string, string> };
    let dir: string;

    before(async () => {
      [src, dst, builder, dir] = await Promise.all([
        startRegistry({ auth: mode }),
        startRegistry({ auth: mode }),
        ImageBuilder.temporary(),
        mkdtemp(join(tmpdir(), 'swr-sync-referrers-')),
      ]);
      dstProxy = await startProxy({ target: dst.url, fault: (req) => fault?.(req) });
      seeded = await seedFallback(src, 'team/app', builder, `fallback-${mode}`);
      auth = await writeAuthJson([src, { ...dst, host: dstProxy.host }]);
    });
    after(async () => {
      await Promise.all([dstProxy?.stop(), src?.stop(), dst?.stop(), builder?.dispose()]);
    });

    const copy = (from: string, to: string, extra: string[] = []) =>
      runCli(['copy', from, to, '--auth', auth.file, '--json', ...extra], { env: auth.env });

    test('without --with-referrers only the image is copied', async () => {
      const run = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/plain/app:1.0`);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.digest, seeded.index.digest);
      assert.equal(result.referrers, undefined);
      assert.deepEqual(await listTags(dst, 'plain/app'), ['1.0']);
      for (const m of expected(seeded).referrers)
        assert.equal((await fetchManifest(dst, 'plain/app', m.digest)).status, 404);
    });

    test("copy --with-referrers: cosign tags, referrers-tag indexes, children's and referrers' referrers, byte-identical; a rerun writes nothing", async () => {
      dstProxy.reset();
      const run = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/mirror/app`, ['--with-referrers']);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'copied');
      assert.equal(result.digest, seeded.index.digest);
      assert.deepEqual(result.referrers, { found: 7, copied: 7, tags: 7, skipped: 0 });
      await assertMirrored(src, 'team/app', dst, 'mirror/app', expected(seeded));
      // The bound: a signature of the SBOM's signature (level 3) stays behind, and so does the tag listing it.
      assert.equal((await fetchManifest(dst, 'mirror/app', seeded.tooDeep.digest)).status, 404);
      // Nothing that refers to another image of the repository.
      for (const m of [seeded.other, seeded.otherSig])
        assert.equal((await fetchManifest(dst, 'mirror/app', m.digest)).status, 404);
      // Each referrers-tag index was written after the referrers it lists.
      const order = dstProxy.requests
        .filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))
        .map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));
      for (const [subject, listed] of [
        [seeded.index, seeded.sbom],
        [seeded.amd64, seeded.childSig],
        [seeded.sbom, seeded.sbomSig],
      ] as const) {
        assert.ok(
          order.indexOf(listed.digest) >= 0 && order.indexOf(listed.digest) < order.indexOf(digestTag(subject.digest)),
          `${digestTag(subject.digest)} after ${listed.digest}`,
        );
      }

      dstProxy.reset();
      const again = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/mirror/app`, ['--with-referrers']);
      assert.equal(again.code, 0, again.stderr);
      const rerun = parseJsonOutput<ImageResult>(again);
      assert.equal(rerun.status, 'unchanged');
      assert.deepEqual(rerun.referrers, { found: 7, copied: 0, tags: 0, skipped: 0 });
      assert.equal(rerun.bytesTransferred, 0);
      assert.deepEqual(writes(dstProxy), [], 'a rerun sends no PUT, POST or PATCH to the destination');
    });

    test("a platform filter skips, with a note, the referrers of the source index (the destination holds another index) and copies the kept child's", async () => {
      const run = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/filtered/app:1.0`, [
        '--with-referrers',
        '--platform',
        'linux/amd64',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.notEqual(result.digest, seeded.index.digest);
      assert.deepEqual(result.referrers, { found: 2, copied: 2, tags: 2, skipped: 3 });
      assert.match(
        result.note ?? '',
        /3 referrers of the source index sha256:\w+ not copied: they refer to that index, and the platform filter wrote/,
      );
      assert.deepEqual(
        (await listTags(dst, 'filtered/app')).sort(),
        ['1.0', digestTag(seeded.amd64.digest), digestTag(seeded.amd64.digest, '.sbom')].sort(),
      );
      for (const m of [seeded.childSig, seeded.childSbom])
        assert.equal((await verifyImageComplete(dst, 'filtered/app', m.digest)).digest, m.digest);
      for (const m of [seeded.sig, seeded.att, seeded.sbom, seeded.sbomSig])
        assert.equal((await fetchManifest(dst, 'filtered/app', m.digest)).status, 404);
      const text = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/filtered/app:1.0`, [
        '--with-referrers',
        '--platform',
        'linux/amd64',
      ]);
      assert.equal(parseJsonOutput<ImageResult>(text).status, 'unchanged');
    });

    test('a referrer that cannot be written fails the image (exit 1), which is in place; a rerun completes the referrers', async () => {
      fault = (req) =>
        req.method === 'PUT' && req.path.endsWith(`/manifests/${seeded.sbom.digest}`)
          ? { status: 500, body: 'storage full' }
          : undefined;
      const run = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/failing/app:1.0`, [
        '--with-referrers',
        '--retries',
        '0',
      ]);
      fault = undefined;
      assert.equal(run.code, 1, run.stderr + run.stdout);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'failed');
      assert.equal(result.digest, seeded.index.digest);
      assert.match(
        result.error?.message ?? '',
        /failing\/app:1\.0: the image is in place \(sha256:\w+\), but what refers to it was not all copied: .*500/,
      );
      assert.equal((await fetchManifest(dst, 'failing/app', '1.0')).digest, seeded.index.digest);
      assert.equal(
        (await fetchManifest(dst, 'failing/app', digestTag(seeded.index.digest))).status,
        404,
        'no referrers tag listing a referrer that is not there',
      );

      const again = await copy(`${src.host}/team/app:1.0`, `${dstProxy.host}/failing/app:1.0`, ['--with-referrers']);
      assert.equal(again.code, 0, again.stderr);
      const rerun = parseJsonOutput<ImageResult>(again);
      assert.equal(rerun.status, 'unchanged');
      // The SBOM, then what refers to it: its signature and cosign signature; and the two tags listing them.
      assert.deepEqual(rerun.referrers, { found: 7, copied: 3, tags: 3, skipped: 0 });
      await assertMirrored(src, 'team/app', dst, 'failing/app', expected(seeded));
    });

    test('sync --with-referrers (images.json) and the mirror spec\'s per-image "referrers"; plan counts what is missing; reruns write nothing', async () => {
      const images = join(dir, 'images.json');
      await writeFile(
        images,
        JSON.stringify({
          [`${src.host}/team/app:1.0`]: `${dstProxy.host}/synced/app:1.0`,
          [`${src.host}/team/app:other`]: `${dstProxy.host}/synced/other`,
        }),
      );
      const sync = await runCli(
        ['sync', '--auth', auth.file, '--images', images, '--with-referrers', '--json', '--log', ''],
        { env: auth.env },
      );
      assert.equal(sync.code, 0, sync.stderr + sync.stdout);
      const out = parseJsonOutput<SyncJson>(sync);
      const app = out.images.find((r) => r.destination.endsWith('/synced/app:1.0'))!;
      assert.deepEqual(app.referrers, { found: 7, copied: 7, tags: 7, skipped: 0 });
      await assertMirrored(src, 'team/app', dst, 'synced/app', expected(seeded));
      assert.deepEqual(
        (await listTags(dst, 'synced/other')).sort(),
        ['other', digestTag(seeded.other.digest, '.sig')].sort(),
      );

      const spec = join(dir, 'swr-mirror.yaml');
      await writeFile(
        spec,
        [
          'version: 1',
          'images:',
          `  - { id: app, source: ${src.host}/team/app:1.0, destination: ${dstProxy.host}/spec/app, referrers: true }`,
          `  - { id: other, source: ${src.host}/team/app:other, destination: ${dstProxy.host}/spec/other }`,
          '',
        ].join('\n'),
      );
      const job = ['--auth', auth.file, '--images', spec, '--json'];
      const planned = parseJsonOutput<PlanJson>(await runCli(['plan', ...job], { env: auth.env }));
      const planOf = (p: PlanJson, id: string) =>
        p.entries.find((e) => e.destination.endsWith(`/spec/${id}:${id === 'app' ? '1.0' : 'other'}`))!;
      assert.deepEqual(planOf(planned, 'app').referrers, { found: 7, missing: 7, skipped: 0 });
      assert.equal(
        planOf(planned, 'other').referrers,
        undefined,
        'no "referrers" and no --with-referrers: not looked for',
      );
      const markdown = await runCli(['plan', '--auth', auth.file, '--images', spec], { env: auth.env });
      assert.match(markdown.stdout, /7 referrers \(signatures, attestations, SBOMs\) to copy/);

      const first = await runCli(['sync', ...job, '--log', ''], { env: auth.env });
      assert.equal(first.code, 0, first.stderr + first.stdout);
      await assertMirrored(src, 'team/app', dst, 'spec/app', expected(seeded));
      assert.deepEqual(await listTags(dst, 'spec/other'), ['other']);
      assert.deepEqual(
        planOf(parseJsonOutput<PlanJson>(await runCli(['plan', ...job], { env: auth.env })), 'app').referrers,
        { found: 7, missing: 0, skipped: 0 },
      );

      dstProxy.reset();
      const rerun = parseJsonOutput<SyncJson>(await runCli(['sync', ...job, '--log', ''], { env: auth.env }));
      assert.equal(rerun.summary.unchanged, 2);
      assert.deepEqual(rerun.images.find((r) => r.destination.endsWith('/spec/app:1.0'))!.referrers, {
        found: 7,
        copied: 0,
        tags: 0,
        skipped: 0,
      });
      assert.deepEqual(writes(dstProxy), []);
    });

    test('"referrers" in a mirror spec must be a boolean (exit 2, naming the image and field)', async () => {
      const spec = join(dir, 'bad.json');
      await writeFile(
        spec,
        JSON.stringify({
          version: 1,
          images: [
            { id: 'app', source: `${src.host}/team/app:1.0`, destination: `${dst.host}/x/app`, referrers: 'yes' },
          ],
        }),
      );
      const run = await runCli(['plan', '--auth', auth.file, '--images', spec], { env: auth.env });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /images\[0\] \(id "app"\).*"referrers" must be a boolean/);
    });
  });
}

/** A loopback OCI 1.1 registry front: serves the referrers API from the manifests with `subject` PUT through it. */
interface ReferrersApi {
  url: string;
  host: string;
  /** `METHOD path?query` of every request. */
  requests: string[];
  stop(): Promise<void>;
}

async function startReferrersApi(upstream: RunningRegistry, pageSize: number): Promise<ReferrersApi> {
  const target = new URL(upstream.url);
  const agent = new Agent({ keepAlive: true });
  const subjects = new Map<string, Array<Record<string, unknown>>>();
  const requests: string[] = [];

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    onStatus?: (status: number) => Record<string, string>,
  ): void => {
    // Host passes through: distribution builds upload Locations from it, so they point back here.
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        const extra = onStatus?.(upRes.statusCode ?? 502) ?? {};
        res.writeHead(upRes.statusCode ?? 502, { ...upRes.headers, ...extra });
        upRes.pipe(res);
      },
    );
    up.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    if (body) up.end(body);
    else req.pipe(up);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (referrers && req.method === 'GET') {
      // distribution-spec "Listing Referrers": an image index, paginated with Link rel="next".
      const all = subjects.get(`${referrers[1]}@${referrers[2]}`) ?? [];
      const start = Number(url.searchParams.get('page') ?? '0');
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: all.slice(start, start + pageSize),
      });
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'content-length': String(Buffer.byteLength(body)),
        ...(start + pageSize < all.length
          ? { link: `</v2/${referrers[1]}/referrers/${referrers[2]}?page=${start + pageSize}>; rel="next"` }
          : {}),
      });
      res.end(body);
      return;
    }
    const manifest = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname);
    if (!manifest || req.method !== 'PUT') {
      forward(req, res, undefined);
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const bytes = Buffer.concat(parts);
      forward(req, res, bytes, (status): Record<string, string> => {
        const body = JSON.parse(bytes.toString('utf8')) as {
          mediaType?: string;
          artifactType?: string;
          config?: { mediaType: string };
          subject?: { digest: string };
          annotations?: Record<string, string>;
        };
        if (status !== 201 || !body.subject) return {};
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        const key = `${manifest[1]}@${body.subject.digest}`;
        const list = subjects.get(key) ?? [];
        if (!list.some((d) => d.digest === digest)) {
          list.push({
            mediaType: body.mediaType ?? req.headers['content-type'],
            digest,
            size: bytes.length,
            ...((body.artifactType ?? body.config?.mediaType)
              ? { artifactType: body.artifactType ?? body.config?.mediaType }
              : {}),
            ...(body.annotations ? { annotations: body.annotations } : {}),
          });
          subjects.set(key, list);
        }
        return { 'oci-subject': body.subject.digest };
      });
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    stop: () => {
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('--with-referrers through the OCI 1.1 referrers API (a loopback API front on distribution 2.8.2), no auth', () => {
  let src: RunningRegistry;
  let plain: RunningRegistry;
  let apiDst: RunningRegistry;
  let srcApi: ReferrersApi;
  let dstApi: ReferrersApi;
  let plainProxy: Proxy;
  let builder: ImageBuilder;
  let a: Awaited<ReturnType<typeof artifacts>>;
  /** A second referrer of the index, so its listing takes two pages. */
  let report: BuiltManifest;
  let auth: { file: string; env: Record<string, string> };

  before(async () => {
    [src, plain, apiDst, builder] = await Promise.all([
      startRegistry(),
      startRegistry(),
      startRegistry(),
      ImageBuilder.temporary(),
    ]);
    [srcApi, dstApi, plainProxy] = await Promise.all([
      startReferrersApi(src, 1),
      startReferrersApi(apiDst, 10),
      startProxy({ target: plain.url }),
    ]);
    a = await artifacts(builder, 'api');
    report = await builder.artifact({
      artifactType: 'application/vnd.example.vulnerability-report+json',
      subject: a.index,
      seed: 'api/report',
    });
    // Pushed through the API front, which indexes each `subject` as it passes: no referrers tags anywhere.
    const endpoint = { url: srcApi.url };
    await pushImage(endpoint, 'team/api', '1.0', a.index, builder);
    for (const m of [a.sbom, report, a.childSig, a.sbomSig, a.tooDeep])
      await pushImage(endpoint, 'team/api', m.digest, m, builder);
    await pushImage(endpoint, 'team/api', digestTag(a.index.digest, '.sig'), a.sig, builder);
    auth = await writeAuthJson([
      src,
      { ...src, host: srcApi.host },
      { ...plain, host: plainProxy.host },
      { ...apiDst, host: dstApi.host },
    ]);
  });
  after(async () => {
    await Promise.all([
      srcApi?.stop(),
      dstApi?.stop(),
      plainProxy?.stop(),
      src?.stop(),
      plain?.stop(),
      apiDst?.stop(),
      builder?.dispose(),
    ]);
  });

  const copy = (to: string) =>
    runCli(['copy', `${srcApi.host}/team/api:1.0`, to, '--auth', auth.file, '--json', '--with-referrers'], {
      env: auth.env,
    });

  test('to a registry without the API: referrers found through the API (paginated), the destination gets referrers-tag indexes', async () => {
    srcApi.requests.length = 0;
    const run = await copy(`${plainProxy.host}/mirror/api:1.0`);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const result = parseJsonOutput<ImageResult>(run);
    assert.equal(result.digest, a.index.digest);
    // sbom, report, childSig, .sig (level 1); sbomSig (level 2); tooDeep is level 3.
    assert.deepEqual(result.referrers, { found: 5, copied: 5, tags: 4, skipped: 0 });
    assert.ok(
      srcApi.requests.includes(`GET /v2/team/api/referrers/${a.index.digest}`),
      'the source was asked through the referrers API',
    );
    assert.ok(
      srcApi.requests.includes(`GET /v2/team/api/referrers/${a.index.digest}?page=1`),
      'and its Link to the second page followed',
    );
    assert.ok(
      !srcApi.requests.some((r) => r.endsWith(`/manifests/${digestTag(a.index.digest)}`)),
      'the referrers tag schema is not consulted where the API answers',
    );
    for (const m of [a.sbom, report, a.childSig, a.sbomSig, a.sig]) {
      const check = await verifyImageComplete(plain, 'mirror/api', m.digest);
      assert.equal(check.digest, m.digest);
      assert.deepEqual(check.missing, []);
    }
    assert.equal((await fetchManifest(plain, 'mirror/api', a.tooDeep.digest)).status, 404);
    for (const [subject, listed] of [
      [a.index, [a.sbom, report]],
      [a.amd64, [a.childSig]],
      [a.sbom, [a.sbomSig]],
    ] as const) {
      const tag = await fetchManifest(plain, 'mirror/api', digestTag(subject.digest));
      assert.equal(
        tag.status,
        200,
        `${digestTag(subject.digest)} written for oras/cosign on a registry without the API`,
      );
      const index = JSON.parse(tag.bytes!.toString('utf8')) as {
        mediaType: string;
        manifests: Array<{ digest: string; artifactType?: string; size: number }>;
      };
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(
        index.manifests.map((m) => [m.digest, m.size, m.artifactType]),
        listed.map((l) => [l.digest, l.size, l.artifactType]),
      );
    }
    assert.deepEqual(
      (await listTags(plain, 'mirror/api')).sort(),
      [
        '1.0',
        digestTag(a.index.digest, '.sig'),
        digestTag(a.index.digest),
        digestTag(a.amd64.digest),
        digestTag(a.sbom.digest),
      ].sort(),
    );

    plainProxy.reset();
    const again = parseJsonOutput<ImageResult>(await copy(`${plainProxy.host}/mirror/api:1.0`));
    assert.equal(again.status, 'unchanged');
    assert.deepEqual(again.referrers, { found: 5, copied: 0, tags: 0, skipped: 0 });
    assert.deepEqual(writes(plainProxy), []);
  });

  test('to a registry with the API: the registry indexes the copied manifests by subject; no referrers tags are written', async () => {
    const run = await copy(`${dstApi.host}/mirror/api:1.0`);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.deepEqual(parseJsonOutput<ImageResult>(run).referrers, { found: 5, copied: 5, tags: 1, skipped: 0 });
    assert.deepEqual((await listTags(apiDst, 'mirror/api')).sort(), ['1.0', digestTag(a.index.digest, '.sig')].sort());
    const listed = await fetch(`${dstApi.url}/v2/mirror/api/referrers/${a.index.digest}`);
    assert.deepEqual(
      ((await listed.json()) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest).sort(),
      [a.sbom.digest, report.digest].sort(),
    );
    assert.equal((await verifyImageComplete(apiDst, 'mirror/api', a.sbomSig.digest)).digest, a.sbomSig.digest);
  });
});

describe('--with-referrers: a stale referrers-tag entry (deleted without updating the tag), no auth', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let dstProxy: Proxy;
  let builder: ImageBuilder;
  let auth: { file: string; env: Record<string, string> };

  before(async () => {
    [src, dst, builder] = await Promise.all([startRegistry(), startRegistry(), ImageBuilder.temporary()]);
    dstProxy = await startProxy({ target: dst.url });
    auth = await writeAuthJson([src, { ...dst, host: dstProxy.host }]);
  });
  after(async () => {
    await Promise.all([dstProxy?.stop(), src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  test('the entry is skipped with a note, the others copied, and the destination tag lists what is there', async () => {
    const image = await builder.image({ format: 'oci', layerSize: 8 * 1024, seed: 'stale' });
    const sbom = await builder.artifact({ artifactType: SPDX, subject: image, seed: 'stale/sbom' });
    const ghost = await builder.artifact({ artifactType: SIGNATURE, subject: image, seed: 'stale/ghost' });
    const listing = await builder.index({ format: 'oci', manifests: [sbom, ghost] });
    await pushImage(src, 'team/stale', 'v1', image, builder);
    await pushImage(src, 'team/stale', digestTag(image.digest), listing, builder);
    // As `oras manifest delete` on a registry without the API can leave it: the manifest gone, still listed.
    assert.equal((await fetch(`${src.url}/v2/team/stale/manifests/${ghost.digest}`, { method: 'DELETE' })).status, 202);

    const copy = () =>
      runCli(
        [
          'copy',
          `${src.host}/team/stale:v1`,
          `${dstProxy.host}/mirror/stale:v1`,
          '--auth',
          auth.file,
          '--json',
          '--with-referrers',
        ],
        { env: auth.env },
      );
    const run = await copy();
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const result = parseJsonOutput<ImageResult>(run);
    assert.deepEqual(result.referrers, { found: 1, copied: 1, tags: 1, skipped: 0 });
    assert.match(
      result.note ?? '',
      new RegExp(
        `1 referrer of sha256:\\w+ listed in ${digestTag(image.digest)} but not at the source \\(a stale entry\\): not copied`,
      ),
    );
    const tag = await fetchManifest(dst, 'mirror/stale', digestTag(image.digest));
    assert.deepEqual(
      (JSON.parse(tag.bytes!.toString('utf8')) as { manifests: Array<{ digest: string }> }).manifests.map(
        (m) => m.digest,
      ),
      [sbom.digest],
    );
    assert.equal((await verifyImageComplete(dst, 'mirror/stale', sbom.digest)).digest, sbom.digest);

    dstProxy.reset();
    const again = parseJsonOutput<ImageResult>(await copy());
    assert.equal(again.status, 'unchanged');
    assert.deepEqual(again.referrers, { found: 1, copied: 0, tags: 0, skipped: 0 });
    assert.deepEqual(writes(dstProxy), []);
  });
});
