import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inShard } from '../../src/plan/shard.js';
import { runCli } from './support.js';

/** What the CLI says when a run has nothing to do: why, rather than only "Images(0) migration finished". */
describe('swr-sync sync with nothing to do', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-messages-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a shard that gets no image says so, naming the shard and the images file; nothing is sent', async () => {
    // One source repository: one of two shards holds it, the other gets nothing (no request is needed to know).
    const images = join(dir, 'images.json');
    await writeFile(images, JSON.stringify({ '127.0.0.1:9/team/app:1.0': '127.0.0.1:9/mirror/app:1.0' }));
    const empty = inShard('127.0.0.1:9/team/app', { index: 1, count: 2 }) ? 2 : 1;
    const run = await runCli(['sync', '--images', images, '--shard', `${empty}/2`, '--log', join(dir, 'log')]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `nothing to do: shard ${empty}/2 holds no image of .*images\\.json \\(shards divide the job by source repository`,
      ),
    );
    assert.match(run.stdout, /Images\(0\) migration finished/);
  });
});
