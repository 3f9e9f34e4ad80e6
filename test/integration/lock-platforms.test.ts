import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PlanEntry } from '../../src/plan/planner.js';
import type { LockFile } from '../../src/plan/lock-file.js';
import {
  ImageBuilder,
  pushImage,
  startRegistry,
  type BuiltIndex,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { runCli, writeAuthJson } from './support.js';

/**
 * A lock entry says the same whoever put the image in place: images already at the destination get their platforms
 * too (read there once), so shards' locks merge and plan fills its platforms column.
 */
describe('lock entries record platforms for images already in place', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let single: BuiltManifest;
  let multi: BuiltIndex;
  let auth: { file: string; env: Record<string, string> };
  let dir: string;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'none' }),
      startRegistry({ auth: 'none' }),
      ImageBuilder.temporary(),
    ]);
    single = await builder.image({ format: 'docker', layers: 1, layerSize: 32 * 1024 });
    multi = await builder.multiArch({ format: 'oci', layerSize: 16 * 1024, attestation: true });
    await Promise.all([
      pushImage(src, 'team/app', '1.0', single, builder),
      pushImage(src, 'team/multi', '2.0', multi, builder),
    ]);
    auth = await writeAuthJson([src, dst]);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-lock-platforms-'));
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose(), dir && rm(dir, { recursive: true, force: true })]);
  });

  test('a sync finding every image in place writes the same lock as the sync that copied them; plan shows the platforms; shards merge', async () => {
    const images = join(dir, 'images.json');
    await writeFile(
      images,
      JSON.stringify({
        [`${src.host}/team/app:1.0`]: `${dst.host}/mirror/app:1.0`,
        [`${src.host}/team/multi:2.0`]: `${dst.host}/mirror/multi:2.0`,
      }),
    );
    const sync = (...extra: string[]) =>
      runCli(['sync', '--auth', auth.file, '--images', images, '--log', join(dir, 'log'), ...extra], { env: auth.env });

    const copying = join(dir, 'copying.lock.json');
    const first = await sync('--lock', copying);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const inPlace = join(dir, 'in-place.lock.json');
    const second = await sync('--lock', inPlace);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /\| 0 +\| 2 +\|/, 'both unchanged');

    const written = JSON.parse(await readFile(inPlace, 'utf8')) as LockFile;
    assert.deepEqual(written.images[`${dst.host}/mirror/app:1.0`]!.platforms, ['linux/amd64']);
    assert.deepEqual(written.images[`${dst.host}/mirror/multi:2.0`]!.platforms, ['linux/amd64', 'linux/arm64/v8']);
    assert.equal(
      await readFile(inPlace, 'utf8'),
      await readFile(copying, 'utf8'),
      'byte for byte the lock of the copying run',
    );

    const plan = await runCli(['plan', '--auth', auth.file, '--images', images, '--lock', inPlace, '--json'], {
      env: auth.env,
    });
    assert.equal(plan.code, 0, plan.stderr);
    const entries = (JSON.parse(plan.stdout) as { entries: PlanEntry[] }).entries;
    assert.deepEqual(
      entries.map((e) => [e.status, e.platforms]),
      [
        ['unchanged', ['linux/amd64']],
        ['unchanged', ['linux/amd64', 'linux/arm64/v8']],
      ],
    );

    // A lock written before platforms were read for images in place ("platforms": []) still merges with a full one.
    const full = JSON.parse(await readFile(copying, 'utf8')) as LockFile;
    const old = {
      ...full,
      images: Object.fromEntries(Object.entries(full.images).map(([k, v]) => [k, { ...v, platforms: [] }])),
    };
    const oldFile = join(dir, 'old.lock.json');
    await writeFile(oldFile, JSON.stringify(old));
    const merged = await runCli(['lock', 'merge', oldFile, inPlace]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(merged.stdout, await readFile(copying, 'utf8'));
  });
});
