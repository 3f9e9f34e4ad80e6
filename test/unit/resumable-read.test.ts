import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { resumableRead, RewindableRead, type ResumableReadOptions } from '../../src/engine/resumable-read.js';
import { HashCheckpoints, VerifyStream } from '../../src/engine/verify-stream.js';
import type { BlobBody } from '../../src/store/image-store.js';

const KiB = 1024;
const blob = randomBytes(256 * KiB);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const retry = { retries: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 };

/**
 * A source that serves `blob` in 16 KiB chunks from the offset asked for, failing each body after `cutAfter` bytes
 * (once per entry), or ignoring the range when `ignoreRange` says so. Records the offsets asked for.
 */
function source(options: { cutAfter?: number[]; ignoreRange?: boolean } = {}) {
  const cuts = [...(options.cutAfter ?? [])];
  const asked: number[] = [];
  const getBlob = async (_registry: string, _repository: string, _digest: string, offset = 0): Promise<BlobBody> => {
    asked.push(offset);
    const start = options.ignoreRange ? 0 : offset;
    const cut = cuts.shift();
    async function* body(): AsyncGenerator<Buffer> {
      let sent = 0;
      for (let at = start; at < blob.length; at += 16 * KiB) {
        const chunk = blob.subarray(at, Math.min(at + 16 * KiB, blob.length));
        if (cut !== undefined && sent + chunk.length > cut) {
          yield chunk.subarray(0, cut - sent);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        sent += chunk.length;
        yield chunk;
      }
    }
    return { body: Readable.from(body()), size: blob.length - start, offset: start };
  };
  return { asked, store: { getBlob } };
}

function options(
  store: ResumableReadOptions['store'],
  extra: Partial<ResumableReadOptions> = {},
): ResumableReadOptions {
  return { store, registry: 'r.example', repository: 'x', digest, size: blob.length, retry, ...extra };
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('resumableRead', () => {
  test('continues after each cut from the byte it stopped at', async () => {
    const s = source({ cutAfter: [40 * KiB, 10 * KiB, 100 * KiB] });
    assert.deepEqual(await collect(resumableRead(options(s.store))), blob);
    assert.deepEqual(s.asked, [0, 40 * KiB, 50 * KiB, 150 * KiB]);
  });

  test('a whole blob sent for a range: a short prefix is dropped, a long one starts the transfer over', async () => {
    const short = source({ cutAfter: [20 * KiB], ignoreRange: true });
    assert.deepEqual(await collect(resumableRead(options(short.store, { discardLimit: 32 * KiB }))), blob);
    const long = source({ cutAfter: [200 * KiB], ignoreRange: true });
    await assert.rejects(
      collect(resumableRead(options(long.store, { discardLimit: 32 * KiB }))),
      (e: { code?: string; retryable?: boolean }) => e.code === 'ERR_RANGE_IGNORED' && e.retryable === true,
    );
  });

  test('gives up after `retries` failures in a row without a new byte', async () => {
    const s = source({ cutAfter: [30 * KiB, 0, 0, 0] });
    await assert.rejects(collect(resumableRead(options(s.store))), /socket hang up/);
    // The cut after progress is resumed; then `retries` (2) attempts in all that bring nothing.
    assert.deepEqual(s.asked, [0, 30 * KiB, 30 * KiB]);
  });
});

describe('RewindableRead', () => {
  test('a resume a little behind the read is served from memory; further back opens a ranged read', async () => {
    const s = source();
    const read = new RewindableRead(options(s.store), 64 * KiB);
    const first = read.open(0);
    let got = 0;
    for await (const chunk of first) {
      got += (chunk as Buffer).length;
      if (got >= 128 * KiB) break;
    }
    // An upload resumed 32 KiB behind: no new request.
    assert.deepEqual(await collect(read.open(96 * KiB)), blob.subarray(96 * KiB));
    assert.deepEqual(s.asked, [0]);
    // From the start again (a new upload session): the history does not reach back that far.
    assert.deepEqual(await collect(read.open(0)), blob);
    assert.deepEqual(s.asked, [0, 0]);
    read.close();
  });
});

describe('VerifyStream with digest checkpoints', () => {
  test('resumed from a checkpoint, it passes on bytes from the offset and still checks the whole digest', async () => {
    const checkpoints = new HashCheckpoints(32 * KiB, 'sha256');
    const where = { registry: 'r.example', repository: 'x' };
    // The first attempt hashes 150 KiB (checkpoints at 32, 64, 96, 128 KiB), then fails.
    const first = new VerifyStream(digest, blob.length, where, { checkpoints });
    first.write(blob.subarray(0, 150 * KiB));
    first.destroy();
    const from = checkpoints.atOrBefore(140 * KiB);
    assert.equal(from.offset, 128 * KiB);
    const resumed = new VerifyStream(digest, blob.length, where, {
      resume: { from, skipUntil: 140 * KiB },
      checkpoints,
    });
    const out = collect(resumed);
    resumed.end(blob.subarray(128 * KiB));
    assert.deepEqual(await out, blob.subarray(140 * KiB));

    const corrupt = Buffer.from(blob.subarray(128 * KiB));
    corrupt[corrupt.length - 1] ^= 1;
    const bad = new VerifyStream(digest, blob.length, where, { resume: { from, skipUntil: 140 * KiB } });
    const failed = collect(bad);
    bad.end(corrupt);
    await assert.rejects(failed, (e: { code?: string }) => e.code === 'ERR_DIGEST_MISMATCH');
  });
});
