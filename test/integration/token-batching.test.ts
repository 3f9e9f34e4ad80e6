import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openJob, syncJob } from '../../src/job/job.js';
import {
  ImageBuilder,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';

/**
 * Bearer tokens for several repositories at once (issue 7: "token reuse across repositories where the scope
 * allows"): 12 repositories cost 2 token requests per side instead of 12, and token servers that grant only part of
 * a batch, or refuse several scopes, still get every image copied.
 */
describe('token requests batched across the repositories of a run (token auth)', () => {
  const REPOSITORIES = 12;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let dir: string;
  const started: RunningRegistry[] = [];

  before(async () => {
    builder = await ImageBuilder.temporary();
    image = await builder.image({ format: 'oci', layers: 1, layerSize: 2 * 1024 });
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-tokens-'));
  });
  after(async () => {
    await Promise.all(started.map((r) => r.stop()));
    await builder?.dispose();
  });

  async function pair(multiScope?: {
    grantAtMost?: number;
    refuseAbove?: number;
  }): Promise<{ src: RunningRegistry; dst: RunningRegistry; before: number[] }> {
    const [src, dst] = await Promise.all([
      startRegistry({ auth: 'token' }),
      startRegistry({ auth: 'token', ...(multiScope ? { tokenMultiScope: multiScope } : {}) }),
    ]);
    started.push(src, dst);
    for (let i = 0; i < REPOSITORIES; i++)
      await pushImage(src, `lib/app${String(i).padStart(2, '0')}`, 'v1', image, builder);
    // The harness's own pushes asked the source's token server too.
    return { src, dst, before: [src.tokenServer!.requests.length, dst.tokenServer!.requests.length] };
  }

  async function sync(name: string, src: RunningRegistry, dst: RunningRegistry) {
    const images: Record<string, string> = {};
    for (let i = 0; i < REPOSITORIES; i++) {
      const repository = `app${String(i).padStart(2, '0')}`;
      images[`${src.host}/lib/${repository}:v1`] = `${dst.host}/${name}/${repository}:v1`;
    }
    const imagesFile = join(dir, `${name}-images.json`);
    const auth = join(dir, `${name}-auth.json`);
    await writeFile(imagesFile, JSON.stringify(images));
    await writeFile(
      auth,
      JSON.stringify({
        [src.host]: { username: src.username, password: '${SRC}', insecure: true },
        [dst.host]: { username: dst.username, password: '${DST}', insecure: true },
      }),
    );
    const job = await openJob({
      images: [imagesFile],
      auth,
      retries: 1,
      env: { SRC: src.password!, DST: dst.password! },
    });
    try {
      return await syncJob(job);
    } finally {
      await job.close();
    }
  }

  test('12 repositories: 2 token requests per side, each asking for up to 8 repositories', async () => {
    const { src, dst, before } = await pair();
    const outcome = await sync('batched', src, dst);
    assert.equal(outcome.summary.copied, REPOSITORIES);
    const ofRun = (registry: RunningRegistry, from: number) =>
      registry.tokenServer!.requests.slice(from).filter((r) => r.status === 200);
    // Source: tag reads and manifest/blob GETs of 12 repositories.
    const srcTokens = ofRun(src, before[0]!);
    assert.deepEqual(
      srcTokens.map((r) => r.scope.length).sort(),
      [4, 8],
      srcTokens.map((r) => r.scope.join(' ')).join(' | '),
    );
    // Destination: the same for pull,push, plus one token per cross-repository mount (its source scope is its own).
    const dstTokens = ofRun(dst, before[1]!);
    const batched = dstTokens.filter((r) => r.scope.every((s) => s.endsWith(':pull,push')));
    assert.deepEqual(
      batched.map((r) => r.scope.length).sort(),
      [4, 8],
      dstTokens.map((r) => r.scope.join(' ')).join(' | '),
    );
    // The others are cross-repository mounts: the repository's own pull,push and the mount source's pull.
    for (const r of dstTokens.filter((t) => !batched.includes(t))) {
      assert.equal(r.scope.length, 2, r.scope.join(' '));
      assert.equal(r.scope.filter((x) => x.endsWith(':pull,push')).length, 1, r.scope.join(' '));
    }
  });

  for (const [behaviour, limits] of [
    ['grant-at-most-2', { grantAtMost: 2 }],
    ['refuse-above-2', { refuseAbove: 2 }],
  ] as const) {
    test(`a token server that ${behaviour === 'grant-at-most-2' ? 'grants only 2 of the scopes asked for' : 'refuses more than 2 scopes'}: every image is still copied`, async () => {
      const { src, dst, before } = await pair(limits);
      const outcome = await sync(behaviour, src, dst);
      assert.equal(
        outcome.summary.copied,
        REPOSITORIES,
        JSON.stringify(outcome.results.filter((r) => r.status === 'failed').map((r) => r.error)),
      );
      for (let i = 0; i < REPOSITORIES; i++) {
        const got = await verifyImageComplete(dst, `${behaviour}/app${String(i).padStart(2, '0')}`, 'v1');
        assert.deepEqual(got, { digest: image.digest, missing: [] });
      }
      // Each repository is in at most one batch as a companion: refusals stay few, then single scopes are asked for.
      const refused = dst.tokenServer!.requests.slice(before[1]!).filter((r) => r.status === 400).length;
      assert.ok(refused <= 3, `${refused} refused token requests`);
    });
  }
});
