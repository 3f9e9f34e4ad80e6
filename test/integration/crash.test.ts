import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ImageBuilder,
  listTags,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type RegistryAuth,
  type RunningRegistry,
} from '../harness/index.js';
import { CLI, runCli } from './support.js';

const IMAGES = 8;

/**
 * Crash safety: whatever dies mid-run (swr-sync itself, the destination, the source), every tag at the destination
 * afterwards resolves to a complete image (tags are written last), and a rerun reaches equality with the source.
 * In each auth mode: with token auth the token server outlives a killed registry, so tokens stay valid across it.
 */
for (const auth of ['none', 'basic', 'token'] satisfies RegistryAuth[])
  describe(`crash safety of sync (${auth} auth)`, { timeout: 180_000 }, () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let builder: ImageBuilder;
    let dir: string;
    const built: BuiltManifest[] = [];

    before(async () => {
      [src, dst, builder] = await Promise.all([
        startRegistry({ auth }),
        startRegistry({ auth }),
        ImageBuilder.temporary(),
      ]);
      for (let i = 0; i < IMAGES; i++) {
        const image = await builder.image({ format: 'oci', layers: 2, layerSize: 6 * 1024 * 1024 });
        built.push(image);
        await pushImage(src, `crash/app${i}`, 'v1', image, builder);
      }
      dir = await mkdtemp(join(tmpdir(), 'swr-sync-crash-'));
      const login = (registry: RunningRegistry, variable: string) =>
        registry.username ? { username: registry.username, password: `\${${variable}}` } : {};
      await writeFile(
        join(dir, 'auth.json'),
        JSON.stringify({
          [src.host]: { ...login(src, 'SRC_PASSWORD'), insecure: true },
          [dst.host]: { ...login(dst, 'DST_PASSWORD'), insecure: true },
        }),
      );
    });
    after(async () => {
      await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
    });

    const env = (): Record<string, string> =>
      auth === 'none' ? {} : { SRC_PASSWORD: src.password!, DST_PASSWORD: dst.password! };

    async function imagesFile(namespace: string): Promise<string> {
      const file = join(dir, `${namespace}.json`);
      const rules: Record<string, string> = {};
      for (let i = 0; i < IMAGES; i++) rules[`${src.host}/crash/app${i}:v1`] = `${dst.host}/${namespace}/app${i}:v1`;
      await writeFile(file, JSON.stringify(rules));
      return file;
    }

    /** Every tag present at the destination is complete; returns how many images are there. */
    async function assertNoIncompleteTag(namespace: string): Promise<number> {
      let present = 0;
      for (let i = 0; i < IMAGES; i++) {
        const tags = await listTags(dst, `${namespace}/app${i}`);
        for (const tag of tags) {
          const check = await verifyImageComplete(dst, `${namespace}/app${i}`, tag);
          assert.deepEqual(check.missing, [], `${namespace}/app${i}:${tag} is complete`);
          assert.equal(check.digest, built[i]!.digest);
          present++;
        }
      }
      return present;
    }

    async function rerunReachesEquality(file: string, namespace: string): Promise<void> {
      const run = await runCli(
        ['sync', '--auth', join(dir, 'auth.json'), '--images', file, '--log', join(dir, 'log')],
        { env: env() },
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(await assertNoIncompleteTag(namespace), IMAGES, 'every image is at the destination after the rerun');
    }

    /** Starts a sync in the background; resolves with its exit once it ends. */
    function startSync(file: string) {
      const child = spawn(
        process.execPath,
        [
          CLI,
          'sync',
          '--auth',
          join(dir, 'auth.json'),
          '--images',
          file,
          '--log',
          join(dir, 'log'),
          '--workers',
          '2',
          '--retries',
          '2',
        ],
        {
          env: { PATH: process.env.PATH ?? '', HOME: dir, ...env() },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, output })),
      );
      return { child, exited };
    }

    /** Waits until the destination has started receiving this run's images (its first tag appears). */
    async function waitForFirstTag(namespace: string): Promise<void> {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        for (let i = 0; i < IMAGES; i++) if ((await listTags(dst, `${namespace}/app${i}`)).length > 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the sync never wrote a tag');
    }

    test('swr-sync killed with SIGKILL mid-run', async () => {
      const file = await imagesFile('killed-client');
      const run = startSync(file);
      await waitForFirstTag('killed-client');
      run.child.kill('SIGKILL');
      const { signal } = await run.exited;
      assert.equal(signal, 'SIGKILL');
      const present = await assertNoIncompleteTag('killed-client');
      assert.ok(present < IMAGES, `the run was cut short (${present} of ${IMAGES} images)`);
      await rerunReachesEquality(file, 'killed-client');
    });

    test('destination registry killed mid-run and restarted', async () => {
      const file = await imagesFile('killed-destination');
      const run = startSync(file);
      await waitForFirstTag('killed-destination');
      dst.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      await dst.restart();
      const { code, output } = await run.exited;
      process.stdout.write(`# ${auth} auth, destination killed and restarted: sync exit ${code}\n`);
      // Retries may carry the run over the restart; if not, the failures name the images.
      if (code !== 0) {
        assert.equal(code, 1, output);
        assert.match(output, /failed +127\.0\.0\.1:\d+\/crash\/app\d:v1 -> /);
      }
      await assertNoIncompleteTag('killed-destination');
      await rerunReachesEquality(file, 'killed-destination');
    });

    test('source registry killed mid-run', async () => {
      const file = await imagesFile('killed-source');
      const run = startSync(file);
      await waitForFirstTag('killed-source');
      src.kill('SIGKILL');
      const { code, output } = await run.exited;
      await src.restart();
      process.stdout.write(`# ${auth} auth, source killed: sync exit ${code}\n`);
      if (code !== 0) {
        assert.equal(code, 1, output);
        assert.match(output, new RegExp(`registry ${src.host.replace(/\./g, '\\.')} unreachable`));
      }
      await assertNoIncompleteTag('killed-source');
      await rerunReachesEquality(file, 'killed-source');
    });
  });
