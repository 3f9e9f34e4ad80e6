import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  isQuotaRequest,
  parseQuotaHeader,
  RegistryLimiter,
  TokenBucket,
  type Clock,
} from '../../src/client/rate-limit.js';

/**
 * Virtual time: `sleep` registers a timer; `drive` fires timers in time order (letting I/O and promises run between
 * them) until the awaited work settles, so minutes of pacing take milliseconds and `slept` records every wait.
 */
class FakeClock implements Clock {
  t = 0;
  readonly slept: number[] = [];
  private timers: Array<{ at: number; resolve: () => void }> = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.slept.push(ms);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (settled || this.timers.length === 0) continue;
      const next = this.timers.reduce((a, b) => (b.at < a.at ? b : a));
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    return work;
  }
}

describe('TokenBucket', () => {
  test('a burst of `capacity`, then one token per 1/rate seconds, queued in order', () => {
    const bucket = new TokenBucket(10, 10, 0);
    for (let i = 0; i < 10; i++) assert.equal(bucket.reserve(1, 0), 0);
    assert.equal(bucket.reserve(1, 0), 100);
    assert.equal(bucket.reserve(1, 0), 200);
    // 300 ms later the two reservations are paid and one token has accrued.
    assert.equal(bucket.reserve(1, 300), 0);
    assert.equal(bucket.reserve(1, 300), 100);
  });

  test('refills to capacity and no further', () => {
    const bucket = new TokenBucket(1000, 500, 0);
    assert.equal(bucket.reserve(500, 0), 0);
    assert.equal(bucket.reserve(600, 60_000), 100);
  });
});

describe('ratelimit headers', () => {
  test('Docker Hub form with a window, bare count, first of several policies', () => {
    assert.deepEqual(parseQuotaHeader('76;w=21600'), { value: 76, windowSeconds: 21600 });
    assert.deepEqual(parseQuotaHeader('76'), { value: 76 });
    assert.deepEqual(parseQuotaHeader(' 0 ; w = 60 '), { value: 0, windowSeconds: 60 });
    assert.deepEqual(parseQuotaHeader('100;w=21600, 10;w=60'), { value: 100, windowSeconds: 21600 });
  });

  test('malformed values are ignored: a bad count is no quota, a bad window no window', () => {
    for (const bad of [undefined, '', 'abc', '-1', '1.5', ';w=60', 'many;w=60'])
      assert.equal(parseQuotaHeader(bad), undefined, String(bad));
    assert.deepEqual(parseQuotaHeader('7;w=abc'), { value: 7 });
    assert.deepEqual(parseQuotaHeader('7;w=0'), { value: 7 });
  });

  test('only manifest GETs count against the pull quota', () => {
    assert.ok(isQuotaRequest('GET', '/v2/library/nginx/manifests/1.27'));
    assert.ok(isQuotaRequest('GET', '/v2/a/b/manifests/sha256:abc?x=1'));
    assert.ok(!isQuotaRequest('HEAD', '/v2/library/nginx/manifests/1.27'));
    assert.ok(!isQuotaRequest('GET', '/v2/library/nginx/blobs/sha256:abc'));
    assert.ok(!isQuotaRequest('GET', '/v2/library/nginx/tags/list'));
  });
});

describe('RegistryLimiter: requests', () => {
  test("--rate: a second's burst, then requests spaced 1/rate apart", async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ defaults: { rate: 2 }, clock });
    await clock.drive(
      (async () => {
        for (let i = 0; i < 5; i++) await limiter.beforeRequest('reg.example', false);
      })(),
    );
    assert.equal(clock.t, 1500, '(5 requests - burst 2) / 2 per second');
  });

  test('a registry entry overrides the default field by field; hosts are limited apart', async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({
      defaults: { rate: 100, bandwidth: 1000 },
      hosts: new Map([['docker.io', { rate: 1 }]]),
      clock,
    });
    assert.deepEqual(limiter.limitsFor('docker.io'), { rate: 1, bandwidth: 1000 });
    assert.deepEqual(limiter.limitsFor('quay.io'), { rate: 100, bandwidth: 1000 });
    await clock.drive(
      (async () => {
        for (let i = 0; i < 3; i++) await limiter.beforeRequest('docker.io', false);
      })(),
    );
    assert.equal(clock.t, 2000);
    const before = clock.t;
    await clock.drive(
      (async () => {
        for (let i = 0; i < 100; i++) await limiter.beforeRequest('quay.io', false);
      })(),
    );
    assert.equal(clock.t, before, 'quay.io has its own bucket of 100');
  });

  test('no limits: nothing waits', async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ clock });
    for (let i = 0; i < 1000; i++) await limiter.beforeRequest('reg.example', true);
    assert.deepEqual(clock.slept, []);
  });

  test('an abort ends a wait at once', async () => {
    const limiter = new RegistryLimiter({ defaults: { rate: 0.01 } });
    await limiter.beforeRequest('reg.example', false);
    const controller = new AbortController();
    const waiting = limiter.beforeRequest('reg.example', false, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 10);
    await assert.rejects(waiting, /cancelled/);
  });
});

describe('RegistryLimiter: quota pacing', () => {
  test('few pulls left: manifest GETs are spread over the window, other requests are not held', async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ paceThreshold: 4, clock });
    assert.equal(limiter.afterResponse('docker.io', 200, { 'ratelimit-remaining': '50;w=100' }), undefined);
    await limiter.beforeRequest('docker.io', true);
    assert.deepEqual(clock.slept, [], 'plenty left: no pacing');

    limiter.afterResponse('docker.io', 200, { 'ratelimit-limit': '100;w=100', 'ratelimit-remaining': '4;w=100' });
    await clock.drive(
      (async () => {
        for (let i = 0; i < 3; i++) await limiter.beforeRequest('docker.io', true);
        await limiter.beforeRequest('docker.io', false);
      })(),
    );
    assert.equal(clock.t, 50_000, 'three GETs 25 s apart (100 s / 4); the HEAD did not wait');
    assert.equal(limiter.notices.length, 1);
    assert.equal(limiter.notices[0]!.reason, 'quota-low');
    assert.match(
      limiter.notices[0]!.message,
      /docker\.io reports ratelimit-remaining 4 in a window of 100 s .*spaced 25 s apart/,
    );

    // The quota recovers: pacing stops.
    limiter.afterResponse('docker.io', 200, { 'ratelimit-remaining': '90;w=100' });
    const at = clock.t;
    await clock.drive(
      (async () => {
        await limiter.beforeRequest('docker.io', true);
        await limiter.beforeRequest('docker.io', true);
      })(),
    );
    assert.ok(clock.t - at <= 25_000, 'only the slot already promised is waited for');
  });

  test('the window comes from ratelimit-limit when remaining has none; a long spread is capped', () => {
    const limiter = new RegistryLimiter({ clock: new FakeClock(), maxPaceMs: 120_000 });
    limiter.afterResponse('docker.io', 200, { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '2' });
    assert.match(
      limiter.notices[0]!.message,
      /spaced 120 s apart \(10800 s would spread them over the window; capped\)/,
    );
  });

  test("a 429 with the quota: wait for Retry-After, else the window, and hold the host's other manifest GETs", async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ clock });
    assert.equal(
      limiter.afterResponse('docker.io', 429, {}),
      undefined,
      'no quota header: the ordinary 429 handling applies',
    );
    assert.equal(limiter.afterResponse('docker.io', 429, { 'ratelimit-remaining': '0;w=3', 'retry-after': '1' }), 1000);
    assert.equal(limiter.afterResponse('docker.io', 429, { 'ratelimit-remaining': '0;w=3' }), 3000);
    await clock.drive(limiter.beforeRequest('docker.io', true));
    assert.equal(clock.t, 3000);
    const exhausted = limiter.notices.filter((n) => n.reason === 'quota-exhausted');
    assert.equal(exhausted.length, 1, 'said once');
    assert.match(
      exhausted[0]!.message,
      /docker\.io answered 429 Too Many Requests \(ratelimit-remaining 0 in a window of 3 s\)/,
    );
  });

  test('notices are replayed to a late listener and sent to it afterwards', () => {
    const limiter = new RegistryLimiter({ clock: new FakeClock() });
    limiter.afterResponse('a.example', 200, { 'ratelimit-remaining': '1;w=10' });
    const heard: string[] = [];
    limiter.onNotice((n) => heard.push(n.host));
    limiter.afterResponse('b.example', 200, { 'ratelimit-remaining': '1;w=10' });
    limiter.afterResponse('b.example', 200, { 'ratelimit-remaining': '0;w=10' });
    assert.deepEqual(heard, ['a.example', 'b.example']);
  });
});

describe('RegistryLimiter: bandwidth', () => {
  async function collect(stream: Readable): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
  const data = (size: number, fill: number) => Buffer.alloc(size, fill);

  test('bytes pass unchanged at the configured rate (after a 100 ms burst)', async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ defaults: { bandwidth: 100_000 }, clock });
    const input = Buffer.concat([data(300_000, 1), data(700_000, 2)]);
    const output = await clock.drive(
      collect(limiter.pace('reg.example', Readable.from([input.subarray(0, 300_000), input.subarray(300_000)]))),
    );
    assert.ok(output.equals(input));
    assert.equal(clock.t, 9900, '(1 MB - 10 kB burst) / 100 kB/s');
    assert.ok(
      clock.slept.every((ms) => ms <= 50),
      'released in slices of about 50 ms',
    );
  });

  test('concurrent transfers to one host share its bandwidth; another host has its own', async () => {
    const clock = new FakeClock();
    const limiter = new RegistryLimiter({ defaults: { bandwidth: 100_000 }, clock });
    const both = Promise.all([
      collect(limiter.pace('reg.example', Readable.from([data(500_000, 1)]))),
      collect(limiter.pace('reg.example', Readable.from([data(500_000, 2)]))),
    ]);
    await clock.drive(both);
    assert.ok(clock.t >= 9900 && clock.t <= 9950, `shared: ${clock.t} ms`);
    const start = clock.t;
    await clock.drive(collect(limiter.pace('other.example', Readable.from([data(200_000, 3)]))));
    assert.equal(clock.t - start, 1900);
  });

  test('unlimited: the stream itself is returned', () => {
    const stream = Readable.from([data(10, 0)]);
    assert.equal(new RegistryLimiter().pace('reg.example', stream), stream);
  });

  test('destroying the paced stream while it waits releases the source and leaves no timer behind', async () => {
    const limiter = new RegistryLimiter({ defaults: { bandwidth: 1024 } });
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(16 * 1024));
      },
    });
    const paced = limiter.pace('reg.example', source);
    const first = await new Promise<Buffer>((resolve) => paced.once('data', resolve));
    assert.equal(first.length, 1024);
    paced.destroy();
    await new Promise((r) => setImmediate(r));
    assert.ok(source.destroyed, 'the source is destroyed with the paced stream');
  });

  test('a source error reaches the reader of the paced stream', async () => {
    const limiter = new RegistryLimiter({ defaults: { bandwidth: 1_000_000 } });
    const source = new Readable({
      read() {
        this.destroy(new Error('upstream broke'));
      },
    });
    await assert.rejects(collect(limiter.pace('reg.example', source)), /upstream broke/);
  });
});
