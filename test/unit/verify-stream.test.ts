import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { VerifyStream } from '../../src/engine/verify-stream.js';

const where = { registry: 'r.io', repository: 'a' };
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function drain(stream: VerifyStream, data: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(data), stream, async function (source) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  return Buffer.concat(out);
}
describe('VerifyStream', () => {
  const data = [Buffer.from('hello '), Buffer.from('world')];
  const whole = Buffer.concat(data);
  test('passes matching content through unchanged', async () => {
    assert.deepEqual(await drain(new VerifyStream(sha(whole), whole.length, where), data), whole);
  });
  test('digest mismatch fails and holds back the last chunk', async () => {
    const v = new VerifyStream(sha(Buffer.from('other')), whole.length, where);
    const seen: number[] = [];
    v.onBytes = (n) => seen.push(n);
    await assert.rejects(drain(v, data), { code: 'ERR_DIGEST_MISMATCH' });
    assert.deepEqual(seen, [6], 'only the first chunk was released before the check');
  });
  test('too many or too few bytes', async () => {
    await assert.rejects(drain(new VerifyStream(sha(whole), whole.length - 1, where), data), {
      code: 'ERR_SIZE_MISMATCH',
    });
    await assert.rejects(drain(new VerifyStream(sha(whole), whole.length + 1, where), data), {
      code: 'ERR_SIZE_MISMATCH',
    });
  });
});
