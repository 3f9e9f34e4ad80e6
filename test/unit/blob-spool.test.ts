import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open as openFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { BlobCopier } from '../../src/engine/blob-copier.js';
import { BlobSpool, SPOOL_PREFIX } from '../../src/engine/blob-spool.js';
import { RewindableRead, type ResumableReadOptions } from '../../src/engine/resumable-read.js';
import { temporaryName } from '../../src/store/temporaries.js';
import type { BlobBody, ImageStore } from '../../src/store/image-store.js';

const KiB = 1024;
const blob = randomBytes(256 * KiB);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };

/** A source serving `blob` in 16 KiB chunks from the offset asked for; records the offsets asked for. */
function source() {
  const asked: number[] = [];
  const getBlob = async (_registry: string, _repository: string, _digest: string, offset = 0): Promise<BlobBody> => {
    asked.push(offset);
    async function* body(): AsyncGenerator<Buffer> {
      for (let at = offset; at < blob.length; at += 16 * KiB)
        yield blob.subarray(at, Math.min(at + 16 * KiB, blob.length));
    }
    return { body: Readable.from(body()), size: blob.length - offset, offset };
  };
  return { asked, store: { getBlob } };
}

function options(store: ResumableReadOptions['store']): ResumableReadOptions {
  return { store, registry: 'r.example', repository: 'x', digest, size: blob.length, retry };
}

async function gather(chunks: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
const collect = gather;

/** Reads `bytes` of a stream and leaves it (an upload cut there). */
async function readSome(stream: Readable, bytes: number): Promise<void> {
  let got = 0;
  for await (const chunk of stream) {
    got += (chunk as Buffer).length;
    if (got >= bytes) break;
  }
}

/** The pid of a process that has exited: the owner of a stale temporary. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('BlobSpool', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'blob-spool-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('keeps the bytes appended, reads them back from any offset, and removes its file when discarded', async () => {
    const spool = (await BlobSpool.create({ limit: blob.length, directory: dir }))!;
    assert.ok(spool.path.startsWith(join(dir, SPOOL_PREFIX)), spool.path);
    for (let at = 0; at < blob.length; at += 100 * KiB) {
      spool.append(blob.subarray(at, Math.min(at + 100 * KiB, blob.length)));
      await spool.settled();
    }
    assert.equal(spool.end, blob.length);
    assert.deepEqual(await gather(spool.read(0)), blob);
    assert.deepEqual(await gather(spool.read(70 * KiB)), blob.subarray(70 * KiB));
    await spool.discard();
    assert.equal(existsSync(spool.path), false);
    assert.equal(spool.usable, false);
    assert.equal(spool.end, 0);
  });

  test('more bytes than the limit (the blob size) drop the spool instead of filling the disk', async () => {
    const spool = (await BlobSpool.create({ limit: 100 * KiB, directory: dir }))!;
    spool.append(blob.subarray(0, 64 * KiB));
    spool.append(blob.subarray(64 * KiB, 128 * KiB));
    await spool.settled();
    assert.equal(spool.usable, false);
    assert.equal(existsSync(spool.path), false);
  });

  test('a temp dir that cannot take a file (missing, or a file) gives no spool rather than an error', async () => {
    assert.equal(await BlobSpool.create({ limit: 1, directory: join(dir, 'missing') }), undefined);
    const file = join(dir, 'not-a-directory');
    await writeFile(file, '');
    assert.equal(await BlobSpool.create({ limit: 1, directory: file }), undefined);
  });

  test('a process that exits without discarding its spool (process.exit, a second Ctrl-C) leaves no file', async () => {
    const module = new URL('../../src/engine/blob-spool.js', import.meta.url).href;
    const script = `import { BlobSpool } from ${JSON.stringify(module)};
      const spool = await BlobSpool.create({ limit: 4, directory: ${JSON.stringify(dir)} });
      spool.append(Buffer.from('data'));
      await spool.settled();
      process.stdout.write(spool.path);
      process.exit(3);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let path = '';
    child.stdout.on('data', (d) => (path += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 3);
    assert.ok(path.startsWith(join(dir, SPOOL_PREFIX)), path);
    assert.equal(existsSync(path), false);
  });

  test('the first spool in a directory removes spools of dead processes of this host, not those of live ones', async () => {
    const sweepDir = await mkdtemp(join(tmpdir(), 'blob-spool-sweep-'));
    const ownedBy = (pid: number): string => temporaryName('spool').replace(/-p\d+h/, `-p${pid}h`);
    const stale = ownedBy(await deadPid());
    const live = temporaryName('spool');
    const otherHost = ownedBy(await deadPid()).replace(/h[0-9a-f]{8}-/, 'hffffffff-');
    for (const name of [stale, live, otherHost]) await writeFile(join(sweepDir, name), 'x');
    const spool = (await BlobSpool.create({ limit: 1, directory: sweepDir }))!;
    await spool.discard();
    assert.deepEqual((await readdir(sweepDir)).sort(), [live, otherHost].sort());
    await rm(sweepDir, { recursive: true, force: true });
  });
});

describe('RewindableRead with a spool', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-spool-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('an upload that starts over from byte 0 is fed from the file, then from the read where it was: one source read', async () => {
    const s = source();
    const spool = (await BlobSpool.create({ limit: blob.length, directory: dir }))!;
    const read = new RewindableRead(options(s.store), 32 * KiB, spool);
    await readSome(read.open(0), 160 * KiB);
    assert.deepEqual(await collect(read.open(0)), blob);
    assert.deepEqual(s.asked, [0]);
    // A third attempt: all of it is in the file now.
    assert.deepEqual(await collect(read.open(48 * KiB)), blob.subarray(48 * KiB));
    assert.deepEqual(s.asked, [0]);
    read.close();
    await spool.discard();
  });

  test('an upload cut while it is fed from the file (its stream destroyed with an error) keeps the spool', async () => {
    const s = source();
    const spool = (await BlobSpool.create({ limit: blob.length, directory: dir }))!;
    const read = new RewindableRead(options(s.store), 32 * KiB, spool);
    await readSome(read.open(0), 160 * KiB);
    const second = read.open(0);
    second.on('error', () => undefined);
    await new Promise<void>((resolve) => second.once('readable', resolve));
    second.read(16 * KiB);
    second.destroy(new Error('the PATCH was cut'));
    await new Promise((resolve) => second.once('close', resolve));
    assert.equal(spool.usable, true);
    assert.deepEqual(await collect(read.open(0)), blob);
    assert.deepEqual(s.asked, [0]);
    read.close();
    await spool.discard();
  });

  test('a spool dropped on the way (over its limit): the source is read again from the offset, as without one', async () => {
    const s = source();
    const spool = (await BlobSpool.create({ limit: 100 * KiB, directory: dir }))!;
    const read = new RewindableRead(options(s.store), 32 * KiB, spool);
    await readSome(read.open(0), 160 * KiB);
    assert.equal(spool.usable, false);
    assert.deepEqual(await collect(read.open(0)), blob);
    assert.deepEqual(s.asked, [0, 0]);
    read.close();
  });

  test('a spool that fails to read back: what it gave is kept, the source sends the rest from there', async () => {
    const s = source();
    const real = (await BlobSpool.create({ limit: blob.length, directory: dir }))!;
    let failed = false;
    // The file gives 40 KiB, then fails (as a file truncated or a disk error would).
    const failing = {
      get usable() {
        return real.usable;
      },
      get end() {
        return real.end;
      },
      append: (chunk: Buffer) => real.append(chunk),
      settled: () => real.settled(),
      read: async function* (offset: number): AsyncGenerator<Buffer> {
        await real.settled();
        yield blob.subarray(offset, offset + 40 * KiB);
        failed = true;
        throw new Error('EIO');
      },
      discard: () => real.discard(),
    };
    const read = new RewindableRead(options(s.store), 32 * KiB, failing);
    await readSome(read.open(0), 160 * KiB);
    assert.deepEqual(await collect(read.open(0)), blob);
    assert.ok(failed);
    assert.deepEqual(s.asked, [0, 40 * KiB]);
    assert.equal(existsSync(real.path), false, 'the failed spool is removed');
    read.close();
  });
});

describe('BlobCopier and its spool', () => {
  const MiB = 1024 * KiB;
  let dir: string;
  const savedTmpdir = process.env.TMPDIR;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copier-spool-'));
    process.env.TMPDIR = dir;
  });
  after(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await rm(dir, { recursive: true, force: true });
  });

  test('bytes gone bad in the spool fail the one digest check, and the retry reads the source instead of the spool', async () => {
    // From 32 MiB a blob copied between registries is spooled.
    const size = 33 * MiB;
    const big = randomBytes(size);
    const bigDigest = `sha256:${createHash('sha256').update(big).digest('hex')}`;
    const asked: number[] = [];
    const source = {
      retry,
      async getBlob(_registry: string, _repository: string, _digest: string, offset = 0): Promise<BlobBody> {
        asked.push(offset);
        async function* body(): AsyncGenerator<Buffer> {
          for (let at = offset; at < size; at += 256 * KiB) yield big.subarray(at, Math.min(at + 256 * KiB, size));
        }
        return { body: Readable.from(body()), size: size - offset, offset };
      },
    } as unknown as ImageStore;
    let attempts = 0;
    let received: Buffer = Buffer.alloc(0);
    const destination = {
      retry,
      hasBlob: async () => false,
      async uploadBlob(
        _registry: string,
        _repository: string,
        _digest: string,
        _size: number,
        open: (offset?: number) => Promise<Readable>,
      ): Promise<void> {
        if (++attempts === 1) {
          // A session cut after 10 MiB (past the 8 MiB kept in memory), then a new one from byte 0 (as distribution
          // 2.8 makes us do), and a byte of the spool flipped in between.
          await readSome(await open(0), 10 * MiB);
          const [name] = (await readdir(dir)).filter((n) => n.startsWith(SPOOL_PREFIX));
          const file = await openFile(join(dir, name!), 'r+');
          const byte = Buffer.alloc(1);
          await file.read(byte, 0, 1, 1000);
          byte[0] ^= 1;
          await file.write(byte, 0, 1, 1000);
          await file.close();
          const failed = await collect(await open(0)).catch((error: unknown) => error);
          assert.equal((failed as { code?: string }).code, 'ERR_DIGEST_MISMATCH');
          throw failed;
        }
        received = await collect(await open(0));
      },
    } as unknown as ImageStore;
    const copier = new BlobCopier({ source, destination });
    const outcome = await copier.ensure(
      { registry: 'src.example', repository: 'a' },
      { registry: 'dst.example', repository: 'b' },
      { mediaType: 'application/octet-stream', digest: bigDigest, size },
    );
    assert.equal(outcome, 'copied');
    assert.equal(attempts, 2);
    assert.ok(received.equals(big), 'the blob arrived intact');
    // The first attempt's read, then the retry's own from byte 0: the spool it would have used was dropped.
    assert.deepEqual(asked, [0, 0]);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith(SPOOL_PREFIX)),
      [],
    );
  });
});
