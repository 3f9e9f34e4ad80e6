import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ImageBuilder,
  pushImage,
  startLatencyProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type LatencyProxy,
  type RunningRegistry,
} from '../harness/index.js';
import { temporaryName } from '../../src/store/temporaries.js';
import { runAction } from '../action/support.js';
import { CLI, runCli, writeAuthJson } from './support.js';

const MiB = 1024 * 1024;

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function spawnCli(args: string[], env: Record<string, string>, cwd: string): Spawned {
  // stdout and stderr are pipes, not a terminal: the CLI's plain (CI) output.
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Names in `dir` matching `pattern`, with the bytes of files among them. */
async function leftovers(dir: string, pattern: RegExp): Promise<Array<{ name: string; size: number }>> {
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => pattern.test(n)) : [];
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, name))).size })));
}

/**
 * Ctrl-C and SIGTERM in the middle of a transfer, the bundled CLI as users run it: the source sits behind a slow link
 * (a small TCP window at a 40 ms round trip) so a 24 MiB layer is still arriving when the signal comes.
 */
describe('interrupted runs (SIGINT / SIGTERM)', { timeout: 180_000 }, () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let big: BuiltManifest;
  let small: BuiltManifest;
  let large: BuiltManifest;
  let slow: LatencyProxy;
  let auth: { file: string; env: Record<string, string> };

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ tmpfs: true }),
      startRegistry({ tmpfs: true }),
      ImageBuilder.temporary({ tmpfs: true }),
    ]);
    slow = await startLatencyProxy({ target: src.url, oneWayMs: 20, windowBytes: 64 * 1024 });
    const layer = await builder.layer({ size: 24 * MiB, seed: 'interrupt/big', level: 0 });
    big = await builder.image({ format: 'oci', layers: [layer] });
    small = await builder.image({ format: 'oci', layers: 1, layerSize: 4096, seed: 'interrupt/small' });
    // From 32 MiB a blob copied between registries is spooled to the temp dir as it streams (docs/transfers.md).
    const largeLayer = await builder.layer({ size: 36 * MiB, seed: 'interrupt/large', level: 0 });
    large = await builder.image({ format: 'oci', layers: [largeLayer] });
    await pushImage(src, 'lib/big', 'v1', big, builder);
    await pushImage(src, 'lib/small', 'v1', small, builder);
    await pushImage(src, 'lib/large', 'v1', large, builder);
    auth = await writeAuthJson([{ ...src, host: slow.host } as RunningRegistry, src, dst]);
  });
  after(async () => {
    await slow?.stop();
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  test('SIGINT during a copy to oci: exits 130, removes the temporary blob file, writes no tag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-oci-'));
    const layout = join(dir, 'layout');
    const run = spawnCli(['copy', `${slow.host}/lib/big:v1`, `oci:${layout}:v1`, '--auth', auth.file], auth.env, dir);
    await until('a temporary blob file with bytes in it', async () =>
      (await leftovers(layout, /^\.swr-sync-blob-.*\.tmp$/)).find((f) => f.size > 256 * 1024),
    );
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 130, run.stderr());
    assert.match(run.stderr(), /SIGINT received: stopping/);
    assert.deepEqual(await leftovers(layout, /swr-sync/), []);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8').catch(() => '{"manifests":[]}')) as {
      manifests: unknown[];
    };
    assert.equal(index.manifests.length, 0, 'no tag on an incomplete image');
  });

  test('SIGTERM during a copy to oci-archive: exits 143, removes the staging directory, leaves no archive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-archive-'));
    const archive = join(dir, 'out.tar');
    const run = spawnCli(
      ['copy', `${slow.host}/lib/big:v1`, `oci-archive:${archive}:v1`, '--auth', auth.file],
      auth.env,
      dir,
    );
    const staging = await until(
      'a staging directory',
      async () => (await leftovers(dir, /^\.out\.tar\.swr-sync-staging-/))[0]?.name,
    );
    await until('a temporary blob file in the staging layout', async () =>
      (await leftovers(join(dir, staging), /^\.swr-sync-blob-.*\.tmp$/)).find((f) => f.size > 256 * 1024),
    );
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 143, run.stderr());
    assert.deepEqual(await leftovers(dir, /swr-sync|out\.tar/), []);
  });

  test('SIGTERM during a sync: the images that completed are printed as they finish and kept in the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-sync-'));
    const images = join(dir, 'images.json');
    const lock = join(dir, 'swr-sync.lock.json');
    await writeFile(
      images,
      JSON.stringify({
        [`${slow.host}/lib/small:v1`]: `${dst.host}/sync/small:v1`,
        [`${slow.host}/lib/big:v1`]: `${dst.host}/sync/big:v1`,
      }),
    );
    const run = spawnCli(
      ['sync', '--images', images, '--auth', auth.file, '--lock', lock, '--log', join(dir, 'swr-sync.log')],
      auth.env,
      dir,
    );
    // Without a terminal the small image's line appears while the big one is still copying.
    await until('the small image reported', () => (/copied\s.*sync\/small:v1/.test(run.stdout()) ? true : undefined));
    assert.doesNotMatch(run.stdout(), /sync\/big/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 143, `${run.stdout()}\n${run.stderr()}`);
    assert.match(run.stderr(), /interrupted by SIGTERM: 1 of 2 images completed \(recorded in .*\), 1 not finished/);
    const written = JSON.parse(await readFile(lock, 'utf8')) as { images: Record<string, { digest: string }> };
    assert.deepEqual(Object.keys(written.images), [`${dst.host}/sync/small:v1`]);
    assert.equal(written.images[`${dst.host}/sync/small:v1`]!.digest, small.digest);
    assert.equal((await verifyImageComplete(dst, 'sync/big', 'v1')).digest, '', 'no tag on the interrupted image');
  });
  test('the next run removes what a SIGKILLed run left in a layout and beside an archive, and nothing a live process owns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-kill-'));
    const layout = join(dir, 'layout');
    const archive = join(dir, 'out.tar');
    const killed = spawnCli(
      ['copy', `${slow.host}/lib/big:v1`, `oci:${layout}:v1`, '--auth', auth.file],
      auth.env,
      dir,
    );
    await until('a temporary blob file', async () =>
      (await leftovers(layout, /^\.swr-sync-blob-.*\.tmp$/)).find((f) => f.size > 0),
    );
    killed.child.kill('SIGKILL');
    await killed.exit;
    const killedArchive = spawnCli(
      ['copy', `${slow.host}/lib/big:v1`, `oci-archive:${archive}:v1`, '--auth', auth.file],
      auth.env,
      dir,
    );
    const staging = await until(
      'a staging directory',
      async () => (await leftovers(dir, /^\.out\.tar\.swr-sync-staging-/))[0]?.name,
    );
    await until('a blob in the staging layout', async () =>
      (await leftovers(join(dir, staging), /^\.swr-sync-blob-.*\.tmp$/)).find((f) => f.size > 0),
    );
    killedArchive.child.kill('SIGKILL');
    await killedArchive.exit;
    assert.ok((await leftovers(layout, /^\.swr-sync-blob-/)).length >= 1, 'SIGKILL leaves the temporary file');
    assert.equal(
      (await leftovers(dir, /^\.out\.tar\.swr-sync-staging-/)).length,
      1,
      'SIGKILL leaves the staging directory',
    );
    // A temporary file of a process that is alive (this test) stays whatever happens.
    const live = temporaryName('blob');
    await writeFile(join(layout, live), 'in progress');

    for (const destination of [`oci:${layout}:small`, `oci-archive:${archive}:small`]) {
      const run = await runCli(['copy', `${slow.host}/lib/small:v1`, destination, '--auth', auth.file], {
        env: auth.env,
      });
      assert.equal(run.code, 0, run.stderr);
    }
    assert.deepEqual(
      (await leftovers(layout, /swr-sync/)).map((f) => f.name),
      [live],
    );
    assert.deepEqual(
      (await leftovers(dir, /swr-sync/)).map((f) => f.name),
      [],
    );
    assert.ok(existsSync(archive));
  });
  test('SIGINT during a large registry-to-registry copy: exits 130 and removes the spool file from the temp dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-spool-'));
    const run = spawnCli(
      ['copy', `${slow.host}/lib/large:v1`, `${dst.host}/spool/large:v1`, '--auth', auth.file],
      { ...auth.env, TMPDIR: dir },
      dir,
    );
    await until('a spool file with bytes in it', async () =>
      (await leftovers(dir, /^\.swr-sync-spool-.*\.tmp$/)).find((f) => f.size > 256 * 1024),
    );
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 130, run.stderr());
    assert.deepEqual(await leftovers(dir, /swr-sync/), []);
    assert.equal((await verifyImageComplete(dst, 'spool/large', 'v1')).digest, '', 'no tag on the interrupted image');
  });

  test('a spool a SIGKILLed run left is removed by the next registry-to-registry run, and one a live process owns is kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'interrupt-spool-kill-'));
    const killed = spawnCli(
      ['copy', `${slow.host}/lib/large:v1`, `${dst.host}/spool/killed:v1`, '--auth', auth.file],
      { ...auth.env, TMPDIR: dir },
      dir,
    );
    const left = await until('a spool file with bytes in it', async () =>
      (await leftovers(dir, /^\.swr-sync-spool-.*\.tmp$/)).find((f) => f.size > 256 * 1024),
    );
    killed.child.kill('SIGKILL');
    await killed.exit;
    assert.deepEqual(
      (await leftovers(dir, /swr-sync/)).map((f) => f.name),
      [left.name],
      'SIGKILL leaves the spool file',
    );
    // This test's process is alive: its spool stays whatever happens.
    const live = temporaryName('spool');
    await writeFile(join(dir, live), 'in progress');
    // The next run copies a small image (no spool of its own) between the same registries.
    const run = await runCli(['copy', `${src.host}/lib/small:v1`, `${dst.host}/spool/next:v1`, '--auth', auth.file], {
      env: { ...auth.env, TMPDIR: dir },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      (await leftovers(dir, /swr-sync/)).map((f) => f.name),
      [live],
    );
  });

  test('the Action, cancelled (SIGINT) mid-sync: the step fails, reports what completed and writes its lock entries', async () => {
    const authInline = JSON.stringify({ [slow.host]: { insecure: true }, [dst.host]: { insecure: true } });
    let signalled = false;
    const run = await runAction({
      inputs: {
        images: `${slow.host}/lib/small:v1: ${dst.host}/action/small:v1\n${slow.host}/lib/big:v1: ${dst.host}/action/big:v1\n`,
        auth: authInline,
        'lock-file': 'mirror.lock.json',
        workers: '2',
      },
      onSpawn: (child, output) => {
        const timer = setInterval(() => {
          if (/copied\s.*action\/small:v1/.test(output())) {
            clearInterval(timer);
            signalled = true;
            child.kill('SIGINT');
          }
        }, 50);
        child.on('close', () => clearInterval(timer));
      },
    });
    assert.ok(signalled, run.stdout);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout, /SIGINT received/);
    const written = JSON.parse(await readFile(join(run.workspace, 'mirror.lock.json'), 'utf8')) as {
      images: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(written.images), [`${dst.host}/action/small:v1`]);
    assert.equal((await verifyImageComplete(dst, 'action/big', 'v1')).digest, '');
  });
});
