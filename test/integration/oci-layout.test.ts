import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  fetchManifest,
  ImageBuilder,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

const run = promisify(execFile);
const REF_NAME = 'org.opencontainers.image.ref.name';

interface IndexJson {
  schemaVersion: number;
  manifests: Array<{ mediaType: string; digest: string; size: number; annotations?: Record<string, string> }>;
}
interface SyncJson {
  summary: { images: number; copied: number; unchanged: number; failed: number };
  images: ImageResult[];
}

async function indexJson(dir: string): Promise<IndexJson> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as IndexJson;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The digest index.json lists under a ref name. */
async function refDigest(dir: string, ref: string): Promise<string | undefined> {
  return (await indexJson(dir)).manifests.find((m) => m.annotations?.[REF_NAME] === ref)?.digest;
}

/** Walks a layout from a manifest digest; returns the blobs that are missing or whose bytes do not match. */
async function layoutMissing(dir: string, digest: string): Promise<string[]> {
  const missing: string[] = [];
  const read = async (d: string): Promise<Buffer | undefined> => {
    const bytes = await readFile(join(dir, 'blobs', 'sha256', d.slice('sha256:'.length))).catch(() => undefined);
    if (!bytes || sha256(bytes) !== d) {
      missing.push(d);
      return undefined;
    }
    return bytes;
  };
  const walk = async (d: string): Promise<void> => {
    const bytes = await read(d);
    if (!bytes) return;
    const json = JSON.parse(bytes.toString('utf8')) as {
      manifests?: Array<{ digest: string }>;
      config?: { digest: string };
      layers?: Array<{ digest: string }>;
    };
    for (const child of json.manifests ?? []) await walk(child.digest);
    for (const blob of [...(json.config ? [json.config] : []), ...(json.layers ?? [])]) await read(blob.digest);
  };
  await walk(digest);
  return missing;
}

/** Every file under blobs/ holds the bytes its name promises (nothing partial), and no temporary file is left. */
async function assertLayoutIntact(dir: string): Promise<void> {
  for (const algorithm of await readdir(join(dir, 'blobs'))) {
    for (const encoded of await readdir(join(dir, 'blobs', algorithm))) {
      const bytes = await readFile(join(dir, 'blobs', algorithm, encoded));
      assert.equal(sha256(bytes), `${algorithm}:${encoded}`, `blobs/${algorithm}/${encoded} is intact`);
    }
  }
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('.')),
    [],
    'no temporary file in the layout',
  );
}

/**
 * skopeo 1.9.3 as users run it: a fresh HOME; --insecure-policy because the test's registries hold unsigned
 * images; plain HTTP to the loopback registry (--*-tls-verify=false).
 */
async function skopeo(args: string[]): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'skopeo-home-'));
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * OCI image layouts (`oci:` and `oci-archive:`) against real distribution registries: registry → layout →
 * registry with digests preserved, a multi-arch index with BuildKit attestations, skopeo reading the layouts we
 * write and us reading the ones skopeo writes, a crash-safe layout destination, and `sync` with layouts in an
 * images file.
 */
describe('OCI layouts', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let auth: { file: string; env: Record<string, string> };
  let work: string;
  let multi: BuiltIndex;
  let docker: BuiltManifest;
  let other: BuiltManifest;

  before(async () => {
    [src, dst, builder, work] = await Promise.all([
      startRegistry(),
      startRegistry(),
      ImageBuilder.temporary(),
      mkdtemp(join(tmpdir(), 'swr-sync-layouts-')),
    ]);
    multi = await builder.multiArch({ format: 'oci', layerSize: 64 * 1024, attestation: true });
    docker = await builder.image({ format: 'docker', layers: 2, layerSize: 32 * 1024 });
    other = await builder.image({ format: 'oci', layers: 1, layerSize: 16 * 1024 });
    await Promise.all([
      pushImage(src, 'team/multi', '2.0', multi, builder),
      pushImage(src, 'team/docker-app', 'v1', docker, builder),
      pushImage(src, 'team/other', '1', other, builder),
      pushImage(
        src,
        'team/other',
        '2',
        await builder.image({ format: 'oci', layers: 1, layerSize: 8 * 1024 }),
        builder,
      ),
    ]);
    auth = await writeAuthJson([src, dst]);
  });
  after(async () => {
    await Promise.all([
      src?.stop(),
      dst?.stop(),
      builder?.dispose(),
      work && rm(work, { recursive: true, force: true }),
    ]);
  });

  const copy = (from: string, to: string, extra: string[] = []) =>
    runCli(['copy', from, to, '--auth', auth.file, '--json', ...extra], { env: auth.env });

  test('registry → oci: → registry: the index, its children and attestations arrive with the digest unchanged', async () => {
    const dir = join(work, 'carry');
    const out = await copy(`${src.host}/team/multi:2.0`, `oci:${dir}`);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const result = parseJsonOutput<ImageResult>(out);
    assert.equal(result.status, 'copied');
    assert.equal(result.destination, `oci:${dir}:2.0`, 'the source tag names the image in the layout');
    assert.equal(result.digest, multi.digest);
    assert.deepEqual(result.platforms.sort(), ['linux/amd64', 'linux/arm64/v8']);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = await indexJson(dir);
    assert.deepEqual(
      index.manifests.map((m) => [m.digest, m.mediaType, m.annotations?.[REF_NAME]]),
      [[multi.digest, 'application/vnd.oci.image.index.v1+json', '2.0']],
    );
    assert.deepEqual(await layoutMissing(dir, multi.digest), []);
    assert.ok(
      multi.children.some((c) => c.attestationFor),
      'the test image has attestations',
    );
    await assertLayoutIntact(dir);

    const again = parseJsonOutput<ImageResult>(await copy(`${src.host}/team/multi:2.0`, `oci:${dir}`));
    assert.equal(again.status, 'unchanged', 'the layout answers the skip-unchanged check');

    const back = await copy(`oci:${dir}:2.0`, `${dst.host}/back/multi:2.0`);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(parseJsonOutput<ImageResult>(back).digest, multi.digest);
    const check = await verifyImageComplete(dst, 'back/multi', '2.0');
    assert.equal(check.digest, multi.digest);
    assert.deepEqual(check.missing, []);
  });

  test('oci-archive: round trip, written as one plain tar', async () => {
    const file = join(work, 'archives', 'multi.tar');
    const out = await copy(`${src.host}/team/multi:2.0`, `oci-archive:${file}:multi`);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(parseJsonOutput<ImageResult>(out).digest, multi.digest);
    assert.deepEqual(
      await readdir(join(work, 'archives')),
      ['multi.tar'],
      'no staging directory or temporary file left',
    );
    const listed = (await run('tar', ['-tf', file])).stdout.split('\n');
    assert.deepEqual(listed.slice(0, 3), ['oci-layout', 'index.json', 'blobs/']);
    assert.ok(listed.includes(`blobs/sha256/${multi.digest.slice(7)}`));

    const back = await copy(`oci-archive:${file}:multi`, `${dst.host}/from-archive/multi:2.0`);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    const check = await verifyImageComplete(dst, 'from-archive/multi', '2.0');
    assert.equal(check.digest, multi.digest);
    assert.deepEqual(check.missing, []);
  });

  test('--platform writes a filtered index into the layout, as into a registry', async () => {
    const dir = join(work, 'amd64');
    const out = await copy(`${src.host}/team/multi:2.0`, `oci:${dir}:amd64`, ['--platform', 'linux/amd64']);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const result = parseJsonOutput<ImageResult>(out);
    assert.deepEqual(result.platforms, ['linux/amd64']);
    assert.notEqual(result.digest, multi.digest);
    assert.match(result.note ?? '', /platform filter kept/);
    assert.equal(await refDigest(dir, 'amd64'), result.digest);
    assert.deepEqual(await layoutMissing(dir, result.digest!), []);
    const arm = multi.children.find((c) => c.platform?.architecture === 'arm64')!;
    await assert.rejects(
      stat(join(dir, 'blobs', 'sha256', arm.digest.slice(7))),
      /ENOENT/,
      'the arm64 image was left out',
    );
  });

  test('skopeo reads the layouts we write (oci: and oci-archive:), digests equal', async () => {
    const dir = join(work, 'for-skopeo');
    const file = join(work, 'for-skopeo.tar');
    assert.equal((await copy(`${src.host}/team/multi:2.0`, `oci:${dir}:release`)).code, 0);
    assert.equal((await copy(`${src.host}/team/multi:2.0`, `oci-archive:${file}:release`)).code, 0);
    await skopeo([
      'copy',
      '--all',
      `oci:${dir}:release`,
      `docker://${dst.host}/by-skopeo/multi:dir`,
      '--dest-tls-verify=false',
    ]);
    await skopeo([
      'copy',
      '--all',
      `oci-archive:${file}:release`,
      `docker://${dst.host}/by-skopeo/multi:archive`,
      '--dest-tls-verify=false',
    ]);
    for (const tag of ['dir', 'archive']) {
      const check = await verifyImageComplete(dst, 'by-skopeo/multi', tag);
      assert.equal(check.digest, multi.digest, `skopeo copied our ${tag} layout with the digest unchanged`);
      assert.deepEqual(check.missing, []);
    }
    const raw = await skopeo(['inspect', '--raw', `oci:${dir}:release`]);
    assert.equal(sha256(Buffer.from(raw)), multi.digest);
  });

  test('we read the layouts skopeo writes (oci: with and without a ref, oci-archive:), digests equal', async () => {
    const dir = join(work, 'from-skopeo');
    const bare = join(work, 'from-skopeo-bare');
    const file = join(work, 'from-skopeo.tar');
    await skopeo([
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${src.host}/team/multi:2.0`,
      `oci:${dir}:latest`,
    ]);
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${src.host}/team/other:1`, `oci:${dir}:other`]);
    await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${src.host}/team/other:1`, `oci:${bare}`]);
    await skopeo([
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${src.host}/team/multi:2.0`,
      `oci-archive:${file}:m`,
    ]);
    assert.equal(await refDigest(dir, 'latest'), multi.digest, 'skopeo kept the OCI index as it is');

    const cases: Array<[string, string, string]> = [
      [`oci:${dir}:latest`, 'skopeo-dir/multi:1', multi.digest],
      [`oci:${dir}:other`, 'skopeo-dir/other:1', other.digest],
      [`oci:${bare}`, 'skopeo-bare/other:1', other.digest],
      [`oci-archive:${file}:m`, 'skopeo-archive/multi:1', multi.digest],
    ];
    for (const [from, to, digest] of cases) {
      const out = await copy(from, `${dst.host}/${to}`);
      assert.equal(out.code, 0, `${from}: ${out.stdout}${out.stderr}`);
      assert.equal(parseJsonOutput<ImageResult>(out).digest, digest, from);
      const [repository, tag] = to.split(':') as [string, string];
      const check = await verifyImageComplete(dst, repository, tag);
      assert.equal(check.digest, digest, from);
      assert.deepEqual(check.missing, [], from);
    }
  });

  test('without REF a layout must hold exactly one image: one is read, two is bad input (exit 2) naming the reference and the rule', async () => {
    const one = join(work, 'one');
    assert.equal((await copy(`${src.host}/team/other:1`, `oci:${one}:only`)).code, 0);
    const ok = await copy(`oci:${one}`, `${dst.host}/no-ref/other`);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const result = parseJsonOutput<ImageResult>(ok);
    assert.equal(result.digest, other.digest);
    assert.equal(
      result.destination,
      `${dst.host}/no-ref/other:latest`,
      'a layout without REF gives the registry "latest", as skopeo does',
    );
    assert.equal((await fetchManifest(dst, 'no-ref/other', 'latest')).digest, other.digest);

    assert.equal((await copy(`${src.host}/team/other:2`, `oci:${one}:second`)).code, 0);
    const two = await copy(`oci:${one}`, `${dst.host}/no-ref/two`);
    assert.equal(two.code, 2, two.stdout + two.stderr);
    const failed = parseJsonOutput<ImageResult>(two);
    assert.equal(failed.error?.code, 'ERR_INVALID_REFERENCE');
    assert.match(
      failed.error?.message ?? '',
      new RegExp(
        `invalid image reference "oci:${one}": the layout holds 2 manifests \\(ref names: only, second\\); without :REF it must hold exactly one`,
      ),
    );

    const byIndex = await copy(`oci:${one}:@1`, `${dst.host}/no-ref/two:second`);
    assert.equal(byIndex.code, 0, byIndex.stdout + byIndex.stderr);
    assert.equal(parseJsonOutput<ImageResult>(byIndex).source, `oci:${one}:@1`);
  });

  test('bad layout references exit 2 before anything is read, naming the reference and the rule', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'oci:',
        `${dst.host}/x/y:1`,
        /invalid image reference "oci:": the layout directory path is missing: write oci:DIR\[:REF\]/,
      ],
      [`${src.host}/team/other:1`, `oci:${work}/z:bad ref`, /whitespace/],
      [
        `${src.host}/team/other:1`,
        `oci:${work}/z:@0`,
        /a source index \(@0\) selects an image to read; a destination needs a ref name/,
      ],
      [`${src.host}/team/other@${other.digest}`, `oci:${work}/z`, /name the image in the layout: write oci:.*\/z:REF/],
      [
        `oci:${work}/z:team/app`,
        `${dst.host}/x/y`,
        /give the destination a tag: the source's REF "team\/app" is not a registry tag/,
      ],
    ];
    for (const [from, to, message] of cases) {
      const out = await copy(from, to);
      assert.equal(out.code, 2, `${from} -> ${to}: ${out.stdout}${out.stderr}`);
      assert.match(out.stderr, message);
      assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('a failed copy into a layout leaves index.json as it was and no partial blob under blobs/', async () => {
    const dir = join(work, 'crash');
    assert.equal((await copy(`${src.host}/team/other:1`, `oci:${dir}:stable`)).code, 0);
    const before = await readFile(join(dir, 'index.json'));

    // A source layer whose stored bytes no longer match its digest (same length, so only the digest check sees it).
    const broken = await builder.image({ format: 'oci', layers: 2, layerSize: 48 * 1024 });
    await pushImage(src, 'team/broken', '1', broken, builder);
    const layer = broken.layers[1]!;
    const data = join(
      src.storageDir,
      'docker/registry/v2/blobs/sha256',
      layer.digest.slice(7, 9),
      layer.digest.slice(7),
      'data',
    );
    const bytes = await readFile(data);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(data, bytes);

    const out = await copy(`${src.host}/team/broken:1`, `oci:${dir}:stable`, ['--retries', '0']);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    const result = parseJsonOutput<ImageResult>(out);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'ERR_DIGEST_MISMATCH');
    assert.deepEqual(
      await readFile(join(dir, 'index.json')),
      before,
      'index.json unchanged: "stable" still names the old image',
    );
    await assert.rejects(stat(join(dir, 'blobs', 'sha256', layer.digest.slice(7))), /ENOENT/);
    await assertLayoutIntact(dir);

    // The same into an archive: the target file is not created.
    const file = join(work, 'crash.tar');
    const archived = await copy(`${src.host}/team/broken:1`, `oci-archive:${file}:stable`, ['--retries', '0']);
    assert.equal(archived.code, 1);
    await assert.rejects(stat(file), /ENOENT/);
    assert.deepEqual(
      (await readdir(work)).filter((n) => n.startsWith('.crash.tar')),
      [],
      'staging removed',
    );
  });

  test(
    'a 256 MiB layer goes into an oci-archive: and out of it with peak RSS under 150 MiB (streamed, never buffered)',
    { timeout: 5 * 60_000 },
    async () => {
      const MiB = 1024 ** 2;
      const layer = await builder.layer({ size: 256 * MiB, seed: 'layout-big', level: 0 });
      const big = await builder.image({ format: 'oci', layers: [layer] });
      await pushImage(src, 'big/layer', 'v1', big, builder);
      const file = join(work, 'big.tar');
      for (const [from, to] of [
        [`${src.host}/big/layer:v1`, `oci-archive:${file}`],
        [`oci-archive:${file}:v1`, `${dst.host}/big/layer:v1`],
      ] as const) {
        const out = await runCli(['copy', from, to, '--auth', auth.file, '--json'], {
          env: auth.env,
          measureRss: true,
        });
        assert.equal(out.code, 0, out.stdout + out.stderr);
        assert.equal(parseJsonOutput<ImageResult>(out).digest, big.digest);
        const rss = out.maxRssBytes!;
        assert.ok(rss > 20 * MiB && rss < 150 * MiB, `${from} -> ${to}: peak RSS ${(rss / MiB).toFixed(0)} MiB`);
      }
      assert.deepEqual((await verifyImageComplete(dst, 'big/layer', 'v1')).missing, []);
      await rm(file);
    },
  );

  test('four swr-sync processes writing one layout directory at once keep every tag (index.json is updated under a lock file)', async () => {
    const tags = Array.from({ length: 24 }, (_, i) => `m${i + 1}`);
    const pushed = new Map<string, string>();
    for (const tag of tags) {
      const image = await builder.image({ format: 'oci', layers: 1, layerSize: 1024 });
      await pushImage(src, 'team/many', tag, image, builder);
      pushed.set(tag, image.digest);
    }
    const dir = join(work, 'shared-layout');
    // The layout exists before the processes start, as on a shared volume; each process writes 6 of the tags.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    const runs = await Promise.all(
      [0, 1, 2, 3].map(async (p) => {
        const images = join(work, `shared-${p}.json`);
        const mine = tags.filter((_, i) => i % 4 === p);
        await writeFile(
          images,
          JSON.stringify(Object.fromEntries(mine.map((t) => [`${src.host}/team/many:${t}`, `oci:${dir}:${t}`]))),
        );
        return runCli(['sync', '--auth', auth.file, '--images', images, '--workers', '6', '--json'], { env: auth.env });
      }),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stdout + r.stderr);
    const refs = (await indexJson(dir)).manifests.map((m) => [m.annotations?.[REF_NAME], m.digest]);
    assert.deepEqual(refs.map(([ref]) => ref).sort(), [...tags].sort(), "every process's tags are in index.json");
    for (const [ref, digest] of refs) assert.equal(digest, pushed.get(ref!), `${ref}`);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.')),
      [],
      'no lock or temporary file left',
    );
    await assertLayoutIntact(dir);
  });

  test('swr-sync sync with layouts in an images file: registry → oci:/oci-archive: → SWR-style registry', async () => {
    const dir = join(work, 'sync-layout');
    const file = join(work, 'sync', 'other.tar');
    await mkdir(join(work, 'sync'), { recursive: true });
    const outbound = join(work, 'sync', 'outbound.json');
    await writeFile(
      outbound,
      JSON.stringify({
        [`${src.host}/team/multi:2.0`]: `oci:${dir}`,
        [`${src.host}/team/docker-app:v1`]: `oci:${dir}`,
        [`${src.host}/team/other`]: `oci-archive:${file}`,
      }),
    );
    const lockFile = join(work, 'sync', 'lock.json');
    const first = await runCli(['sync', '--auth', auth.file, '--images', outbound, '--lock', lockFile, '--json'], {
      env: auth.env,
    });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const out = parseJsonOutput<SyncJson>(first);
    assert.equal(out.summary.copied, 4);
    assert.deepEqual((await indexJson(dir)).manifests.map((m) => m.annotations?.[REF_NAME]).sort(), ['2.0', 'v1']);
    assert.equal(await refDigest(dir, 'v1'), docker.digest, 'a Docker image is stored verbatim: digest kept');
    const archived = (await run('tar', ['-xOf', file, 'index.json'])).stdout;
    assert.deepEqual(
      (JSON.parse(archived) as IndexJson).manifests.map((m) => m.annotations?.[REF_NAME]).sort(),
      ['1', '2'],
      'both tags in one archive, written once',
    );

    // A rerun after team/other:2 moved: the archive is rewritten whole, so the tag the lock calls unchanged is kept.
    const moved = await builder.image({ format: 'oci', layers: 1, layerSize: 8 * 1024 });
    await pushImage(src, 'team/other', '2', moved, builder);
    const rerun = parseJsonOutput<SyncJson>(
      await runCli(['sync', '--auth', auth.file, '--images', outbound, '--lock', lockFile, '--json'], {
        env: auth.env,
      }),
    );
    assert.deepEqual(
      rerun.images.filter((i) => i.destination.startsWith('oci:')).map((i) => i.status),
      ['unchanged', 'unchanged'],
    );
    const rewritten = JSON.parse((await run('tar', ['-xOf', file, 'index.json'])).stdout) as IndexJson;
    assert.deepEqual(rewritten.manifests.map((m) => [m.annotations?.[REF_NAME], m.digest]).sort(), [
      ['1', other.digest],
      ['2', moved.digest],
    ]);

    const inbound = join(work, 'sync', 'inbound.yaml');
    await writeFile(
      inbound,
      [`"oci:${dir}": ${dst.host}/swr-ns/carried`, `"oci-archive:${file}": ${dst.host}/swr-ns/other`, ''].join('\n'),
    );
    const back = await runCli(['sync', '--auth', auth.file, '--images', inbound, '--json'], { env: auth.env });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.equal(parseJsonOutput<SyncJson>(back).summary.copied, 4);
    for (const [repository, tag, digest] of [
      ['swr-ns/carried', '2.0', multi.digest],
      ['swr-ns/carried', 'v1', docker.digest],
      ['swr-ns/other', '1', other.digest],
    ] as const) {
      const check = await verifyImageComplete(dst, repository, tag);
      assert.equal(check.digest, digest, `${repository}:${tag}`);
      assert.deepEqual(check.missing, [], `${repository}:${tag}`);
    }
  });
});
