import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../src/client/retry.js';

describe('retry policy', () => {
  test('retryable statuses', () => {
    for (const s of [429, 500, 502, 503, 504, 408]) assert.ok(isRetryableStatus(s), String(s));
    for (const s of [400, 401, 403, 404, 405, 413, 501]) assert.ok(!isRetryableStatus(s), String(s));
  });
  test('network errors by code, also inside causes', () => {
    assert.ok(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })));
    assert.ok(
      isRetryableNetworkError(new Error('wrap', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) })),
    );
    assert.ok(!isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ENOENT' })));
  });
  test('HTTP/2 stream resets and GOAWAY are transient; other informational errors are not', () => {
    assert.ok(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ERR_HTTP2_STREAM_ERROR' })));
    assert.ok(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ERR_HTTP2_GOAWAY_SESSION' })));
    const info = (message: string) => Object.assign(new Error(message), { code: 'UND_ERR_INFO' });
    assert.ok(isRetryableNetworkError(info('HTTP/2: "stream error" received - code 7')));
    assert.ok(isRetryableNetworkError(new Error('wrap', { cause: info('HTTP/2: "frameError" received - type 1') })));
    assert.ok(!isRetryableNetworkError(info('other')));
  });
  test('Retry-After as seconds and as HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
  test('backoff is capped, jittered, and Retry-After wins up to its cap', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffDelay(p, 0, undefined, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(p, 0, undefined, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(p, 10, undefined, () => 1),
      1000,
    );
    assert.equal(backoffDelay(p, 0, 2500), 2500);
    assert.equal(backoffDelay(p, 0, 10 ** 9), p.maxRetryAfterMs);
  });
});
