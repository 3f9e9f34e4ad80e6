import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FileLockTimeoutError, withFileLock } from '../../src/store/file-lock.js';

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('withFileLock (index.json of a layout shared by processes)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('holders take turns: never two at once, and the lock file is gone afterwards', async () => {
    const lock = join(dir, 'turns.lock');
    let holding = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withFileLock(
          lock,
          async () => {
            holding++;
            most = Math.max(most, holding);
            assert.match(await readFile(lock, 'utf8'), new RegExp(`^${process.pid} `));
            await new Promise((resolve) => setTimeout(resolve, 3));
            holding--;
            done++;
          },
          { pollMs: 2 },
        ),
      ),
    );
    assert.equal(most, 1);
    assert.equal(done, 12);
    assert.equal(await exists(lock), false);
  });

  test('a lock left by a dead process of this host (a SIGKILLed run) is broken at once', async () => {
    const lock = join(dir, 'dead.lock');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, `${gone} ${hostname()}\n`);
    const started = Date.now();
    assert.equal(await withFileLock(lock, async () => 'ran', { timeoutMs: 5_000 }), 'ran');
    assert.ok(Date.now() - started < 2_000);
  });

  test('waiters breaking one stale lock at the same moment still take turns; nothing is left behind', async () => {
    const lock = join(dir, 'stampede.lock');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, `${gone} ${hostname()}\n`);
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withFileLock(
          lock,
          async () => {
            most = Math.max(most, ++holding);
            await new Promise((resolve) => setTimeout(resolve, 2));
            holding--;
          },
          { pollMs: 1 },
        ),
      ),
    );
    assert.equal(most, 1);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('stampede')),
      [],
    );
  });

  test('a lock from another host is broken only once older than staleMs', async () => {
    const lock = join(dir, 'remote.lock');
    await writeFile(lock, `4242 some-other-host\n`);
    await assert.rejects(
      withFileLock(lock, async () => 'ran', { timeoutMs: 100, staleMs: 60_000 }),
      FileLockTimeoutError,
    );
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    assert.equal(await withFileLock(lock, async () => 'ran', { timeoutMs: 1_000, staleMs: 60_000 }), 'ran');
  });

  test('a live holder makes a waiter time out with an error naming the lock file and its owner; the lock is left alone', async () => {
    const lock = join(dir, 'live.lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`);
    await assert.rejects(
      withFileLock(lock, async () => 'ran', { timeoutMs: 150 }),
      (error: unknown) => {
        assert.ok(error instanceof FileLockTimeoutError);
        assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
        assert.ok(
          error.message.includes(lock) && error.message.includes(`pid ${process.pid} on ${hostname()}`),
          error.message,
        );
        return true;
      },
    );
    assert.equal(await exists(lock), true);
  });

  test('the lock is released when the work throws', async () => {
    const lock = join(dir, 'throws.lock');
    await assert.rejects(
      withFileLock(lock, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await exists(lock), false);
  });
});
