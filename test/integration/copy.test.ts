import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  fetchManifest,
  headBlob,
  ImageBuilder,
  listTags,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type RegistryAuth,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

/**
 * `swr-sync copy` run as a process against real distribution registries, in each auth mode: Docker and OCI media
 * types, a multi-arch index with BuildKit attestations, a platform subset, an OCI artifact, and a no-change rerun.
 * Every destination is verified deeply with the harness's own client.
 */
for (const mode of ['none', 'basic', 'token'] as RegistryAuth[]) {
  describe(`swr-sync copy, ${mode} auth`, () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let builder: ImageBuilder;
    let auth: { file: string; env: Record<string, string> };
    let docker: BuiltManifest;
    let multi: BuiltIndex;
    let artifact: BuiltManifest;

    before(async () => {
      [src, dst, builder] = await Promise.all([
        startRegistry({ auth: mode }),
        startRegistry({ auth: mode }),
        ImageBuilder.temporary(),
      ]);
      docker = await builder.image({ format: 'docker', layers: 3, layerSize: 256 * 1024 });
      multi = await builder.multiArch({ format: 'oci', layerSize: 128 * 1024, attestation: true });
      artifact = await builder.artifact({ artifactType: 'application/vnd.example.sbom+json' });
      await Promise.all([
        pushImage(src, 'team/docker-app', 'v1', docker, builder),
        pushImage(src, 'team/multi', '2.0', multi, builder),
        pushImage(src, 'team/sbom', 'latest', artifact, builder),
      ]);
      auth = await writeAuthJson([src, dst]);
    });
    after(async () => {
      await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
    });

    const copy = (from: string, to: string, extra: string[] = []) =>
      runCli(['copy', from, to, '--auth', auth.file, '--json', ...extra], { env: auth.env });

    test('Docker schema 2 image: digest preserved, every blob present', async () => {
      const run = await copy(`${src.host}/team/docker-app:v1`, `${dst.host}/mirror/docker-app:v1`);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'copied');
      assert.equal(result.digest, docker.digest);
      assert.equal(result.sourceDigest, docker.digest);
      assert.equal(result.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      assert.deepEqual(result.platforms, ['linux/amd64']);
      assert.equal(result.blobs.copied, 4);
      assert.equal(result.bytesTransferred, docker.config.size + docker.layers.reduce((n, l) => n + l.size, 0));
      const check = await verifyImageComplete(dst, 'mirror/docker-app', 'v1');
      assert.equal(check.digest, docker.digest);
      assert.deepEqual(check.missing, []);
    });

    test('OCI multi-arch index with attestations: same digest, children and in-toto layers copied', async () => {
      const run = await copy(`${src.host}/team/multi:2.0`, `${dst.host}/mirror/multi`);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'copied');
      assert.equal(result.digest, multi.digest, 'destination index digest equals the source index digest');
      assert.equal(result.destination, `${dst.host}/mirror/multi:2.0`, 'the result names the tag written');
      assert.deepEqual(result.platforms.sort(), ['linux/amd64', 'linux/arm64/v8']);
      const check = await verifyImageComplete(dst, 'mirror/multi', '2.0');
      assert.equal(check.digest, multi.digest);
      assert.deepEqual(check.missing, []);
      const attestations = multi.children.filter((c) => c.attestationFor);
      assert.equal(attestations.length, 2);
      for (const a of attestations) {
        assert.equal((await fetchManifest(dst, 'mirror/multi', a.digest)).digest, a.digest);
        assert.equal(await headBlob(dst, 'mirror/multi', a.layers[0]!.digest), 200);
      }
    });

    test('rerun reports unchanged and moves no bytes', async () => {
      const run = await copy(`${src.host}/team/multi:2.0`, `${dst.host}/mirror/multi:2.0`);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'unchanged');
      assert.equal(result.digest, multi.digest);
      assert.equal(result.bytesTransferred, 0);
    });

    test('platform subset writes a new index with only that platform and says so', async () => {
      const run = await copy(`${src.host}/team/multi:2.0`, `${dst.host}/subset/multi:2.0-arm64`, [
        '--platform',
        'linux/arm64',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'copied');
      assert.deepEqual(result.platforms, ['linux/arm64/v8']);
      assert.notEqual(result.digest, multi.digest);
      assert.match(result.note ?? '', /differs from the source index/);
      const index = await fetchManifest(dst, 'subset/multi', '2.0-arm64');
      assert.equal(index.digest, result.digest);
      const entries = (
        JSON.parse(index.bytes!.toString()) as {
          manifests: Array<{ digest: string; platform: { architecture: string } }>;
        }
      ).manifests;
      const arm = multi.children.find((c) => c.platform?.architecture === 'arm64')!;
      const amd = multi.children.find((c) => c.platform?.architecture === 'amd64')!;
      assert.deepEqual(
        entries.map((e) => e.digest).sort(),
        [arm.digest, multi.children.find((c) => c.attestationFor === arm.digest)!.digest].sort(),
      );
      assert.deepEqual((await verifyImageComplete(dst, 'subset/multi', '2.0-arm64')).missing, []);
      const amdOnly = amd.layers.filter((l) => !arm.layers.some((a) => a.digest === l.digest));
      assert.ok(amdOnly.length > 0);
      for (const layer of amdOnly)
        assert.equal(await headBlob(dst, 'subset/multi', layer.digest), 404, 'amd64-only layers are not copied');
      const again = parseJsonOutput<ImageResult>(
        await copy(`${src.host}/team/multi:2.0`, `${dst.host}/subset/multi:2.0-arm64`, ['--platform', 'linux/arm64']),
      );
      assert.equal(again.status, 'unchanged');
    });

    test('non-image OCI artifact keeps its artifactType and digest', async () => {
      const run = await copy(`${src.host}/team/sbom`, `${dst.host}/mirror/sbom`);
      assert.equal(run.code, 0, run.stderr);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.digest, artifact.digest);
      assert.deepEqual(result.platforms, []);
      const fetched = await fetchManifest(dst, 'mirror/sbom', 'latest');
      assert.equal(fetched.digest, artifact.digest);
      assert.equal(
        (JSON.parse(fetched.bytes!.toString()) as { artifactType: string }).artifactType,
        'application/vnd.example.sbom+json',
      );
      assert.deepEqual((await verifyImageComplete(dst, 'mirror/sbom', 'latest')).missing, []);
    });

    test('copy by digest stores by digest without a tag', async () => {
      const run = await copy(`${src.host}/team/docker-app@${docker.digest}`, `${dst.host}/pinned/docker-app`);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(parseJsonOutput<ImageResult>(run).digest, docker.digest);
      assert.deepEqual(await listTags(dst, 'pinned/docker-app'), []);
      assert.equal((await fetchManifest(dst, 'pinned/docker-app', docker.digest)).digest, docker.digest);
    });

    test('a missing source fails with exit 1, naming the image, and writes nothing', async () => {
      const run = await copy(`${src.host}/team/absent:v1`, `${dst.host}/mirror/absent:v1`);
      assert.equal(run.code, 1);
      const result = parseJsonOutput<ImageResult>(run);
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'ERR_NOT_FOUND');
      assert.match(result.error!.message, new RegExp(`${src.host}/team/absent:v1`));
      assert.deepEqual(await listTags(dst, 'mirror/absent'), []);
    });

    if (mode !== 'none') {
      test('wrong password: exit 1, names registry and repository, says credentials were found, never prints them', async () => {
        const bad = await writeAuthJson([src, dst], { wrongPassword: true });
        const run = await runCli(
          ['copy', `${src.host}/team/docker-app:v1`, `${dst.host}/mirror/denied:v1`, '--auth', bad.file],
          { env: bad.env },
        );
        assert.equal(run.code, 1);
        const output = run.stdout + run.stderr;
        assert.match(output, new RegExp(`${src.host}`));
        assert.match(output, /team\/docker-app/);
        assert.match(output, /credentials for .* were found \(.*auth\.json key/);
        for (const secret of [...Object.values(bad.env), src.password!, dst.password!])
          assert.ok(!output.includes(secret), 'no password in output');
        assert.deepEqual(await listTags(dst, 'mirror/denied'), []);
      });

      test('no credentials: says none are configured for the host', async () => {
        const run = await runCli([
          'copy',
          `${src.host}/team/docker-app:v1`,
          `${dst.host}/mirror/anon:v1`,
          '--insecure',
        ]);
        assert.equal(run.code, 1);
        // The destination is asked first (is the image already there?), so it is the host named.
        assert.match(
          run.stdout + run.stderr,
          new RegExp(`no credentials are configured for ${dst.host.replace(/\./g, '\\.')}`),
        );
      });

      test('a skopeo-style authfile per side works, and ${VAR} passwords never reach argv', async () => {
        const { writeFile, mkdtemp } = await import('node:fs/promises');
        const { join } = await import('node:path');
        const { tmpdir } = await import('node:os');
        const dir = await mkdtemp(join(tmpdir(), 'authfile-'));
        const entry = (r: RunningRegistry) => ({
          auths: { [r.host]: { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') } },
        });
        await writeFile(join(dir, 'src.json'), JSON.stringify(entry(src)));
        await writeFile(join(dir, 'dst.json'), JSON.stringify(entry(dst)));
        const run = await runCli([
          'copy',
          `${src.host}/team/docker-app:v1`,
          `${dst.host}/authfile/docker-app:v1`,
          '--src-authfile',
          join(dir, 'src.json'),
          '--dest-authfile',
          join(dir, 'dst.json'),
          '--insecure',
          '--json',
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(parseJsonOutput<ImageResult>(run).digest, docker.digest);
      });
    }
  });
}

/**
 * Credentials from ~/.docker/config.json through a real credential helper, end to end: the helper is called with
 * `get` only (the host on stdin), and no password appears in output, the log file or the JSON result.
 */
describe('swr-sync with docker config credential helpers', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ auth: 'token' }),
      ImageBuilder.temporary(),
    ]);
    image = await builder.image({ format: 'oci', layers: 1, layerSize: 64 * 1024 });
    await pushImage(src, 'helper/app', 'v1', image, builder);
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  test('credHelpers for one host, credsStore for the other; argv is `get`, secrets stay out of every output', async () => {
    const { mkdtemp, writeFile, readFile, chmod, mkdir } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'swr-sync-helpers-'));
    const bin = join(dir, 'bin');
    const dockerDir = join(dir, 'docker');
    await mkdir(bin);
    await mkdir(dockerDir);
    // Each helper answers from its own environment variables and records its argv.
    for (const [name, user, password] of [
      ['srchelper', src.username!, 'SRC_CANARY'],
      ['dststore', dst.username!, 'DST_CANARY'],
    ] as const) {
      const script = `#!/bin/sh\necho "$@" >> ${join(dir, `${name}.argv`)}\nread host\nprintf '{"ServerURL":"%s","Username":"${user}","Secret":"%s"}' "$host" "$${password}"\n`;
      await writeFile(join(bin, `docker-credential-${name}`), script);
      await chmod(join(bin, `docker-credential-${name}`), 0o755);
    }
    await writeFile(
      join(dockerDir, 'config.json'),
      JSON.stringify({ credsStore: 'dststore', credHelpers: { [src.host]: 'srchelper' } }),
    );
    const log = join(dir, 'run.log');
    const images = join(dir, 'images.json');
    await writeFile(images, JSON.stringify({ [`${src.host}/helper/app:v1`]: `${dst.host}/helper/app:v1` }));
    const auth = join(dir, 'auth.json');
    await writeFile(auth, JSON.stringify({ [src.host]: { insecure: true }, [dst.host]: { insecure: true } }));
    const run = await runCli(['sync', '--images', images, '--log', log, '--json'], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        DOCKER_CONFIG: dockerDir,
        SRC_CANARY: src.password!,
        DST_CANARY: dst.password!,
      },
    });
    // auth.json is not given, so plain HTTP must come from somewhere: the loopback registries need `insecure`.
    assert.equal(run.code, 1, 'without insecure the plain-HTTP registries are refused');
    const insecureRun = await runCli(['sync', '--auth', auth, '--images', images, '--log', log, '--json'], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        DOCKER_CONFIG: dockerDir,
        SRC_CANARY: src.password!,
        DST_CANARY: dst.password!,
      },
    });
    assert.equal(insecureRun.code, 0, insecureRun.stdout + insecureRun.stderr);
    const out = parseJsonOutput<{ images: ImageResult[] }>(insecureRun);
    assert.equal(out.images[0]!.digest, image.digest);
    for (const name of ['srchelper', 'dststore']) {
      const argv = (await readFile(join(dir, `${name}.argv`), 'utf8')).trim().split('\n');
      assert.ok(argv.length >= 1 && argv.every((line) => line === 'get'), `${name} argv: ${argv.join(' | ')}`);
    }
    const everything =
      run.stdout + run.stderr + insecureRun.stdout + insecureRun.stderr + (await readFile(log, 'utf8'));
    for (const secret of [src.password!, dst.password!])
      assert.ok(!everything.includes(secret), 'no secret in any output');
  });
});
