import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { Limiter } from '../../src/util/limiter.js';
import { VerifyStream } from '../../src/engine/verify-stream.js';
import { MediaType, parseManifest } from '../../src/oci/manifest.js';
import { parsePlatforms, platformMatches } from '../../src/oci/platform.js';

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
    await assert.rejects(drain(new VerifyStream(sha(whole), whole.length - 1, where), data), { code: 'ERR_SIZE_MISMATCH' });
    await assert.rejects(drain(new VerifyStream(sha(whole), whole.length + 1, where), data), { code: 'ERR_SIZE_MISMATCH' });
  });
});

describe('Limiter', () => {
  test('never runs more than its limit, in FIFO order', async () => {
    const limiter = new Limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.run(async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(i);
      await new Promise((r) => setTimeout(r, 2));
      active--;
    })));
    assert.equal(peak, 2);
    assert.deepEqual(order, [...Array(10).keys()]);
  });
  test('a newcomer cannot overtake a waiter when a slot frees', async () => {
    const limiter = new Limiter(1);
    let active = 0;
    let peak = 0;
    const task = () => limiter.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await Promise.resolve();
      active--;
    });
    const first = task();
    const second = task();
    await first;
    const third = task();
    await Promise.all([second, third]);
    assert.equal(peak, 1);
  });
});

describe('parseManifest', () => {
  const d = (mediaType: string) => ({ mediaType, digest: `sha256:${'b'.repeat(64)}`, size: 1 });
  test('index and manifest by content type', () => {
    const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [d(MediaType.OciManifest)] })), MediaType.OciIndex, where);
    assert.equal(index.kind, 'index');
    const manifest = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: d('c'), layers: [d('l')] })), `${MediaType.DockerManifest}; charset=utf-8`, where);
    assert.equal(manifest.kind, 'manifest');
    assert.equal(manifest.mediaType, MediaType.DockerManifest);
  });
  test('schema 1 is refused with a clear error', () => {
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, fsLayers: [] })), MediaType.DockerSchema1Signed, where), /schema 1/);
  });
  test('broken descriptors name the field', () => {
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: d('c'), layers: [{ digest: 'x' }] })), MediaType.OciManifest, where), /layers\[0\]/);
    assert.throws(() => parseManifest(Buffer.from('{'), MediaType.OciManifest, where), /not valid JSON/);
  });
});

describe('platforms', () => {
  test('parse and match with arm64 variant normalisation', () => {
    const [amd, arm] = parsePlatforms('linux/amd64, linux/arm64');
    assert.ok(platformMatches(amd!, { os: 'linux', architecture: 'amd64' }));
    assert.ok(platformMatches(arm!, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
    assert.ok(platformMatches(parsePlatforms('linux/arm64/v8')[0]!, { os: 'linux', architecture: 'arm64' }));
    assert.ok(!platformMatches(parsePlatforms('linux/arm/v7')[0]!, { os: 'linux', architecture: 'arm', variant: 'v6' }));
  });
  test('bad values name the flag', () => {
    assert.throws(() => parsePlatforms('linux'), /--platform "linux" is not os\/arch/);
    assert.throws(() => parsePlatforms(','), /--platform is empty/);
  });
});
