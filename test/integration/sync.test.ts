import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  fetchManifest,
  ImageBuilder,
  pushImage,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type Proxy,
  type RegistryAuth,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, type CliRun } from './support.js';

interface SyncJson {
  summary: {
    images: number;
    copied: number;
    unchanged: number;
    failed: number;
    generateFailed: number;
    bytesTransferred: number;
    bytesSkipped: number;
    durationMs: number;
  };
  images: ImageResult[];
  generateFailures: Array<{
    source: string;
    rule: { file: string; key: string };
    error: { code: string; message: string };
  }>;
  warnings: string[];
}
interface PlanJson {
  summary: { new: number; changed: number; unchanged: number; failed: number; removed: number; generateFailed: number };
  entries: Array<{
    source: string;
    destination: string;
    status: string;
    digest?: string;
    currentDigest?: string;
    sourceDigest?: string;
  }>;
  removed: Array<{ destination: string }>;
}

/** A source registry with a few repositories and tags, shared by the sync tests of one auth mode. */
async function seed(src: RunningRegistry, builder: ImageBuilder) {
  const base = await builder.layer({ size: 96 * 1024 });
  const image = async (n: number) =>
    builder.image({ format: n % 2 ? 'oci' : 'docker', layers: [base, await builder.layer({ size: 32 * 1024 })] });
  const images = {
    app100: await image(1),
    app110: await image(2),
    app120rc: await image(3),
    app200: await image(4),
    tool1: await image(5),
    tool2: await image(6),
    lib31: await image(7),
  };
  const multi = await builder.multiArch({ format: 'oci', layerSize: 32 * 1024, attestation: true });
  await Promise.all([
    pushImage(src, 'team/app', '1.0.0', images.app100, builder),
    pushImage(src, 'team/app', '1.1.0', images.app110, builder),
    pushImage(src, 'team/app', '1.2.0-rc.1', images.app120rc, builder),
    pushImage(src, 'team/app', '2.0.0', images.app200, builder),
    pushImage(src, 'team/tool', 'v1', images.tool1, builder),
    pushImage(src, 'team/tool', 'v2', images.tool2, builder),
    pushImage(src, 'other/lib', '3.1', images.lib31, builder),
    pushImage(src, 'team/multi', '1.0', multi, builder),
  ]);
  return { ...images, multi };
}

/**
 * auth.json with a registry key for the source and, for the destination, a registry key with a WRONG password
 * plus a registry/namespace key with the right one: success proves the longest match wins.
 */
async function authFiles(dir: string, src: RunningRegistry, dst: RunningRegistry) {
  const env: Record<string, string> = {};
  const auth: Record<string, unknown> = {};
  auth[src.host] = src.username
    ? { username: src.username, password: '$SRC_PASSWORD', insecure: true }
    : { insecure: true };
  if (src.password) env.SRC_PASSWORD = src.password;
  if (dst.username) {
    auth[dst.host] = { username: dst.username, password: 'not-the-password', insecure: true };
    auth[`${dst.host}/mirror`] = { username: dst.username, password: '${DST_PASSWORD}', insecure: true };
    env.DST_PASSWORD = dst.password!;
  } else {
    auth[dst.host] = { insecure: true };
  }
  const file = join(dir, 'auth.json');
  await writeFile(file, JSON.stringify(auth, null, 2));
  return { file, env };
}

function digestsByDestination(run: SyncJson): Record<string, string | undefined> {
  return Object.fromEntries(run.images.map((r) => [r.destination, r.digest]));
}

for (const mode of ['none', 'basic', 'token'] as RegistryAuth[]) {
  describe(`swr-sync sync: image-migrator rules, ${mode} auth`, () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let builder: ImageBuilder;
    let dir: string;
    let seeded: Awaited<ReturnType<typeof seed>>;
    let auth: { file: string; env: Record<string, string> };

    before(async () => {
      [src, dst, builder] = await Promise.all([
        startRegistry({ auth: mode }),
        startRegistry({ auth: mode }),
        ImageBuilder.temporary(),
      ]);
      seeded = await seed(src, builder);
      dir = await mkdtemp(join(tmpdir(), 'swr-sync-sync-'));
      auth = await authFiles(dir, src, dst);
    });
    after(async () => {
      await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
    });

    test('rules 5-8, fan-out, a lock file written byte-exact, and a rerun that changes nothing', async () => {
      const images = {
        [`${src.host}/team/app:1.0.0`]: `${dst.host}/mirror/app:1.0.0`, // rule 7, explicit tag
        [`${src.host}/team/app:1.1.0`]: `${dst.host}/mirror/app-renamed`, // rules 5 + 7: renamed, tag defaults to the source's
        [`${src.host}/team/tool`]: `${dst.host}/mirror/tool`, // rule 6: all tags
        [`${src.host}/other/lib:3.1`]: '', // rule 8: --registry/--namespace + the repository name
        [`${src.host}/team/app:2.0.0`]: [`${dst.host}/mirror/fan-a`, `${dst.host}/mirror/fan-b:stable`], // fan-out
        [`${src.host}/team/multi:1.0`]: `${dst.host}/mirror/multi:1.0`,
      };
      const imagesFile = join(dir, 'images.json');
      const lockFile = join(dir, 'swr-mirror.lock.json');
      await writeFile(imagesFile, JSON.stringify(images, null, 2));
      const args = ['--auth', auth.file, '--images', imagesFile, '--namespace', 'mirror', '--lock', lockFile, '--json'];
      const run = await runCli(args, { env: { ...auth.env, DEFAULT_REGISTRY: dst.host } });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const out = parseJsonOutput<SyncJson>(run);
      const expected: Record<string, string> = {
        [`${dst.host}/mirror/app:1.0.0`]: seeded.app100.digest,
        [`${dst.host}/mirror/app-renamed:1.1.0`]: seeded.app110.digest,
        [`${dst.host}/mirror/tool:v1`]: seeded.tool1.digest,
        [`${dst.host}/mirror/tool:v2`]: seeded.tool2.digest,
        [`${dst.host}/mirror/lib:3.1`]: seeded.lib31.digest,
        [`${dst.host}/mirror/fan-a:2.0.0`]: seeded.app200.digest,
        [`${dst.host}/mirror/fan-b:stable`]: seeded.app200.digest,
        [`${dst.host}/mirror/multi:1.0`]: seeded.multi.digest,
      };
      assert.deepEqual(digestsByDestination(out), expected);
      assert.deepEqual(out.summary.copied, 8);
      for (const [destination, digest] of Object.entries(expected)) {
        const [, path, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(destination)!;
        const check = await verifyImageComplete(dst, path!, tag!);
        assert.equal(check.digest, digest, destination);
        assert.deepEqual(check.missing, [], destination);
      }
      // The lock file: sorted keys, two-space indent, trailing newline.
      const lockText = await readFile(lockFile, 'utf8');
      const entries = Object.keys(expected)
        .sort()
        .map((destination) => {
          const result = out.images.find((r) => r.destination === destination)!;
          return [
            destination,
            {
              digest: expected[destination],
              platforms: result.platforms,
              source: result.source,
              sourceDigest: expected[destination],
            },
          ] as const;
        });
      assert.equal(lockText, `${JSON.stringify({ images: Object.fromEntries(entries), version: 1 }, null, 2)}\n`);
      assert.deepEqual(out.images.find((r) => r.destination.endsWith('/mirror/multi:1.0'))!.platforms.sort(), [
        'linux/amd64',
        'linux/arm64/v8',
      ]);
      assert.ok(
        (await readdir(dir)).every((f) => !f.endsWith('.tmp')),
        'no temporary file left behind',
      );

      const again = await runCli(args, { env: { ...auth.env, DEFAULT_REGISTRY: dst.host } });
      assert.equal(again.code, 0, again.stderr);
      const second = parseJsonOutput<SyncJson>(again);
      assert.equal(second.summary.unchanged, 8);
      assert.deepEqual(
        second.images.find((r) => r.destination.endsWith('/mirror/multi:1.0'))!.platforms.sort(),
        ['linux/amd64', 'linux/arm64/v8'],
        'unchanged images report the platforms the lock file knows',
      );
      assert.equal(second.summary.bytesTransferred, 0);
      assert.equal(
        await readFile(lockFile, 'utf8'),
        lockText,
        'an unchanged rerun leaves the lock file byte-identical',
      );
    });

    test('human output ends with the finishing line and the table; the log file has a line per image', async () => {
      const imagesFile = join(dir, 'one.yaml');
      await writeFile(
        imagesFile,
        `${src.host}/team/app:1.0.0: ${dst.host}/mirror/human:1.0.0\n${src.host}/team/tool:v1: ${dst.host}/mirror/human:v1\n`,
      );
      const logFile = join(dir, 'run.log');
      const run = await runCli(['sync', '--auth', auth.file, '--images', imagesFile, '--log', logFile], {
        env: auth.env,
      });
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const lines = run.stdout.trimEnd().split('\n');
      assert.equal(lines.at(-4), 'Images(2) migration finished, 0 images tasks failed, 0 tasks generate failed');
      assert.match(
        lines.at(-3)!,
        /^\| copied +\| unchanged \| skipped \| failed \| bytes transferred \| bytes skipped \| time/,
      );
      assert.match(lines.at(-1)!, /^\| 2 +\| 0 +\| 0 +\| 0 +\|/);
      const log = await readFile(logFile, 'utf8');
      assert.equal(log.split('\n').filter((l) => / copied /.test(l)).length, 2);
      for (const secret of Object.values(auth.env))
        assert.ok(!log.includes(secret) && !run.stdout.includes(secret) && !run.stderr.includes(secret));
    });
  });
}

describe('swr-sync plan, tag filters, shards and failures (token auth)', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let dstProxy: Proxy;
  let builder: ImageBuilder;
  let dir: string;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let auth: { file: string; env: Record<string, string> };
  let replacement: BuiltManifest | BuiltIndex;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'token' }),
      startRegistry({ auth: 'token' }),
      ImageBuilder.temporary(),
    ]);
    dstProxy = await startProxy({ target: dst.url });
    seeded = await seed(src, builder);
    replacement = await builder.image({ format: 'oci', layers: 1, layerSize: 16 * 1024 });
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-plan-'));
    auth = await authFiles(dir, src, { ...dst, host: dstProxy.host });
  });
  after(async () => {
    await dstProxy?.stop();
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  const job = (file: string, extra: string[] = []) => ['--auth', auth.file, '--images', file, ...extra];

  test('tag filters from a YAML mirror spec: include/exclude regexes, semver range, latest N, /regex/', async () => {
    const spec = join(dir, 'filters.yaml');
    await writeFile(
      spec,
      [
        'version: 1',
        'images:',
        `  - id: latest-1x`,
        `    source: ${src.host}/team/app`,
        `    destination: ${dstProxy.host}/mirror/filtered-app`,
        `    tags: { include: ['^1\\.'], exclude: ['-rc'], semver: '>=1.0.0 <2', latest: 1 }`,
        `  - id: tools`,
        `    source: ${src.host}/team/tool`,
        `    destination: ${dstProxy.host}/mirror/filtered-tool`,
        `    tags: ['/^v[2-9]$/']`,
        `  - id: flattened`,
        `    source: ${src.host}/other/lib`,
        `    destination: ${dstProxy.host}/mirror`,
        `    flatten: all`,
        `    tags: ['3.1']`,
        '',
      ].join('\n'),
    );
    const run = await runCli(['plan', ...job(spec), '--json'], { env: auth.env });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const plan = parseJsonOutput<PlanJson>(run);
    assert.deepEqual(plan.entries.map((e) => e.destination).sort(), [
      `${dstProxy.host}/mirror/filtered-app:1.1.0`,
      `${dstProxy.host}/mirror/filtered-tool:v2`,
      `${dstProxy.host}/mirror/lib:3.1`,
    ]);
    assert.ok(plan.entries.every((e) => e.status === 'new'));
  });

  test('plan shows new, changed (old → new digest), unchanged and removed, with HEAD requests only at the destination', async () => {
    const lockFile = join(dir, 'plan.lock.json');
    const first = join(dir, 'plan-1.json');
    await writeFile(
      first,
      JSON.stringify({
        [`${src.host}/team/app:1.0.0`]: `${dstProxy.host}/mirror/p-app:1.0.0`,
        [`${src.host}/team/tool:v1`]: `${dstProxy.host}/mirror/p-tool:v1`,
        [`${src.host}/other/lib:3.1`]: `${dstProxy.host}/mirror/p-lib:3.1`,
      }),
    );
    const synced = await runCli([...job(first, ['--lock', lockFile])], { env: auth.env });
    assert.equal(synced.code, 0, synced.stderr + synced.stdout);
    // The source moves 1.0.0; the next job drops lib and adds app:2.0.0.
    await pushImage(src, 'team/app', '1.0.0', replacement, builder);
    const second = join(dir, 'plan-2.json');
    await writeFile(
      second,
      JSON.stringify({
        [`${src.host}/team/app:1.0.0`]: `${dstProxy.host}/mirror/p-app:1.0.0`,
        [`${src.host}/team/tool:v1`]: `${dstProxy.host}/mirror/p-tool:v1`,
        [`${src.host}/team/app:2.0.0`]: `${dstProxy.host}/mirror/p-app:2.0.0`,
      }),
    );
    dstProxy.reset();
    const run = await runCli(['plan', ...job(second, ['--lock', lockFile]), '--json'], { env: auth.env });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const plan = parseJsonOutput<PlanJson>(run);
    const by = Object.fromEntries(plan.entries.map((e) => [e.destination.replace(`${dstProxy.host}/mirror/`, ''), e]));
    assert.equal(by['p-app:1.0.0']!.status, 'changed');
    assert.equal(by['p-app:1.0.0']!.currentDigest, seeded.app100.digest);
    assert.equal(by['p-app:1.0.0']!.digest, replacement.digest);
    assert.equal(by['p-tool:v1']!.status, 'unchanged');
    assert.equal(by['p-app:2.0.0']!.status, 'new');
    assert.deepEqual(
      plan.removed.map((r) => r.destination),
      [`${dstProxy.host}/mirror/p-lib:3.1`],
    );
    assert.deepEqual(plan.summary, {
      new: 1,
      changed: 1,
      unchanged: 1,
      skipped: 0,
      failed: 0,
      removed: 1,
      generateFailed: 0,
    });
    assert.deepEqual(
      [...new Set(dstProxy.requests.filter((r) => r.status !== 401).map((r) => r.method))],
      ['HEAD'],
      'the destination saw only HEAD',
    );

    const markdown = await runCli(['plan', ...job(second, ['--lock', lockFile])], { env: auth.env });
    assert.match(markdown.stdout, /\*\*swr-sync plan\*\*: 1 new, 1 changed, 1 unchanged, 1 removed from the lock file/);
    assert.match(markdown.stdout, /\| status \| source \| destination \| digest \|/);
    assert.match(
      markdown.stdout,
      new RegExp(
        `\\| changed \\| \`${src.host}/team/app:1\\.0\\.0\` \\| .*p-app:1\\.0\\.0\` \\| \`sha256:[0-9a-f]{12}\` → \`sha256:[0-9a-f]{12}\` \\|`,
      ),
    );
    assert.match(markdown.stdout, /Removed from the lock file[\s\S]*p-lib:3\.1/);
    // dry-run is the same plan
    const dry = await runCli(['sync', ...job(second, ['--lock', lockFile]), '--dry-run'], { env: auth.env });
    assert.equal(dry.stdout, markdown.stdout);
    assert.equal((await fetchManifest(dst, 'mirror/p-app', '2.0.0')).status, 404, 'dry-run copied nothing');
  });

  test('shards partition the work by source repository: union is the whole job, no overlap', async () => {
    const file = join(dir, 'shards.json');
    const images: Record<string, string> = {};
    for (const [repo, tags] of [
      ['team/app', ['1.0.0', '1.1.0', '2.0.0']],
      ['team/tool', ['v1', 'v2']],
      ['other/lib', ['3.1']],
      ['team/multi', ['1.0']],
    ] as const) {
      for (const tag of tags)
        images[`${src.host}/${repo}:${tag}`] = `${dstProxy.host}/shard/${repo.replace('/', '-')}:${tag}`;
    }
    await writeFile(file, JSON.stringify(images));
    const plans = async (extra: string[]) =>
      parseJsonOutput<PlanJson>(await runCli(['plan', ...job(file, extra), '--json'], { env: auth.env })).entries;
    const whole = await plans([]);
    const parts = await Promise.all([1, 2, 3].map((i) => plans(['--shard', `${i}/3`])));
    const seen = parts
      .flat()
      .map((e) => e.destination)
      .sort();
    assert.deepEqual(seen, whole.map((e) => e.destination).sort(), 'union = whole job, nothing twice');
    for (const repo of ['team/app', 'team/tool', 'other/lib', 'team/multi']) {
      assert.equal(
        parts.filter((p) => p.some((e) => e.source.includes(`/${repo}:`))).length,
        1,
        `${repo} lives in one shard`,
      );
    }
    const bad = await runCli(['plan', ...job(file, ['--shard', '4/3'])], { env: auth.env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shard "4\/3" must be I\/N/);
  });

  test('shards sync with their own lock files; `lock merge` joins them, and refuses shards that disagree', async () => {
    const file = join(dir, 'shard-sync.json');
    const images: Record<string, string> = {};
    for (const [repo, tag] of [
      ['team/app', '2.0.0'],
      ['team/tool', 'v1'],
      ['team/tool', 'v2'],
      ['other/lib', '3.1'],
      ['team/multi', '1.0'],
    ] as const) {
      images[`${src.host}/${repo}:${tag}`] = `${dstProxy.host}/mirror/merged-${repo.replace('/', '-')}:${tag}`;
    }
    await writeFile(file, JSON.stringify(images));
    const locks = [1, 2].map((i) => join(dir, `shard-${i}.lock.json`));
    for (const [i, lock] of locks.entries()) {
      const run = await runCli(['sync', ...job(file, ['--shard', `${i + 1}/2`, '--lock', lock])], { env: auth.env });
      assert.equal(run.code, 0, run.stdout + run.stderr);
    }
    const merged = join(dir, 'merged.lock.json');
    const merge = await runCli(['lock', 'merge', ...locks, '-o', merged]);
    assert.equal(merge.code, 0, merge.stderr);
    const lock = JSON.parse(await readFile(merged, 'utf8')) as { images: Record<string, { digest: string }> };
    assert.deepEqual(Object.keys(lock.images).sort(), Object.values(images).sort(), 'every destination, once');
    const parts = await Promise.all(
      locks.map(async (l) => Object.keys((JSON.parse(await readFile(l, 'utf8')) as { images: object }).images)),
    );
    assert.equal(parts[0]!.length + parts[1]!.length, Object.keys(images).length, 'the shards did not overlap');
    const stdout = await runCli(['lock', 'merge', ...locks]);
    assert.equal(stdout.stdout, await readFile(merged, 'utf8'), 'stdout and -o give the same bytes');
    // A shard that recorded another digest for the same destination is an error naming both files.
    const conflicting = join(dir, 'conflict.lock.json');
    const [someDestination] = Object.keys(lock.images);
    await writeFile(
      conflicting,
      JSON.stringify({
        version: 1,
        images: { [someDestination!]: { ...lock.images[someDestination!], digest: `sha256:${'0'.repeat(64)}` } },
      }),
    );
    const refused = await runCli(['lock', 'merge', merged, conflicting]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /conflict\.lock\.json.*the shards disagree/);
    assert.match(refused.stderr, /merged\.lock\.json/);
  });

  test('a missing source fails that image only; the others complete; exit 1 names it', async () => {
    const file = join(dir, 'missing.json');
    await writeFile(
      file,
      JSON.stringify({
        [`${src.host}/team/app:1.0.0`]: `${dstProxy.host}/mirror/partial-app:1.0.0`,
        [`${src.host}/team/absent:1.0`]: `${dstProxy.host}/mirror/partial-absent:1.0`,
        [`${src.host}/team/never-pushed`]: `${dstProxy.host}/mirror/partial-never`,
        [`${src.host}/team/tool:v2`]: `${dstProxy.host}/mirror/partial-tool:v2`,
      }),
    );
    const run: CliRun = await runCli(['sync', ...job(file, ['--json'])], { env: auth.env });
    assert.equal(run.code, 1);
    const out = parseJsonOutput<SyncJson>(run);
    assert.equal(out.summary.copied, 2);
    assert.equal(out.summary.failed, 1);
    assert.equal(out.summary.generateFailed, 1);
    const failed = out.images.find((r) => r.status === 'failed')!;
    assert.match(failed.error!.message, /team\/absent:1\.0/);
    assert.match(out.generateFailures[0]!.error.message, /team\/never-pushed/);
    const human = await runCli(['sync', ...job(file)], { env: auth.env });
    assert.match(
      human.stdout,
      /Images\(3\) migration finished, 1 images tasks failed, 1 tasks generate failed\n\| copied/,
    );
  });

  test('invalid images file with --strict: exit 2, the file, key and rule named, nothing sent', async () => {
    const file = join(dir, 'invalid.json');
    await writeFile(file, JSON.stringify({ [`${src.host}/team/tool`]: `${dstProxy.host}/mirror/tool:v1` }));
    dstProxy.reset();
    const run = await runCli(['sync', '--strict', ...job(file)], { env: auth.env });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /invalid\.json.*team\/tool.*rule 6/);
    assert.equal(dstProxy.requests.length, 0);
  });
});
