import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SwrSyncError } from '../../src/errors.js';
import { swrLoginKey, swrLoginUser } from '../../src/swr/login-key.js';

// Huawei's documented recipe (docs/swr.md), verbatim. AK and SK reach it through the environment, not argv.
const RECIPE = `printf "$AK" | openssl dgst -binary -sha256 -hmac "$SK" | od -An -vtx1 | sed 's/[ \\n]//g' | sed 'N;s/\\n//'`;

function huaweiRecipe(ak: string, sk: string): string {
  const result = spawnSync('bash', ['-c', RECIPE], { env: { ...process.env, AK: ak, SK: sk }, encoding: 'utf8' });
  assert.equal(result.status, 0, `recipe failed: ${result.stderr}`);
  return result.stdout.replace(/\s+/g, '');
}

function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

function assertInvalidArgument(fn: () => unknown, secret: string, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SwrSyncError);
    assert.equal(e.code, 'ERR_INVALID_ARGUMENT');
    assert.ok(e.message.includes(mentions), e.message);
    if (secret.trim() !== '') assert.ok(!e.message.includes(secret.trim()), `message leaks the value: ${e.message}`);
    return true;
  });
}

describe('swrLoginKey', () => {
  it('matches a fixed vector computed with openssl', () => {
    assert.equal(
      swrLoginKey('DUMMYAK0123456789ABC', 'DummySecretKey0123456789abcdefghijklmnopq'),
      'a48e0341f63596a7fabd29ce1c1849e6eab6b94904110e293624453b562e2363',
    );
  });

  it("matches Huawei's openssl recipe for random AK/SK pairs", () => {
    for (let i = 0; i < 5; i++) {
      const ak = randomAlnum(20);
      const sk = randomAlnum(40);
      const key = swrLoginKey(ak, sk);
      assert.match(key, /^[0-9a-f]{64}$/);
      assert.equal(key, huaweiRecipe(ak, sk));
    }
  });

  it('rejects empty keys without echoing them', () => {
    assertInvalidArgument(() => swrLoginKey('', 'SECRETKEYVALUE1234567890'), '', 'access key is empty');
    assertInvalidArgument(() => swrLoginKey('ACCESSKEY123', ''), '', 'secret key is empty');
  });

  it('rejects whitespace, control and invisible characters without echoing the value', () => {
    const sk = 'VerySecretKeyValue0123456789abcdefghij';
    assertInvalidArgument(() => swrLoginKey('ACCESSKEY123', `${sk}\n`), sk, 'secret key contains whitespace');
    assertInvalidArgument(() => swrLoginKey('ACCESSKEY123', ` ${sk}`), sk, 'secret key');
    assertInvalidArgument(() => swrLoginKey('ACCESSKEY123', `${sk}\u0000`), sk, 'secret key');
    assertInvalidArgument(() => swrLoginKey('ACCESSKEY123', `${sk}\u200b`), sk, 'secret key');
    assertInvalidArgument(() => swrLoginKey('ACCESS\tKEY123', sk), 'ACCESS\tKEY123', 'access key contains');
  });
});

describe('swrLoginUser', () => {
  it('joins project name and AK with @', () => {
    assert.equal(swrLoginUser('cn-north-4', 'DUMMYAK0123456789ABC'), 'cn-north-4@DUMMYAK0123456789ABC');
    assert.equal(swrLoginUser('eu-de_myproject', 'AK123'), 'eu-de_myproject@AK123');
  });

  it('validates both parts', () => {
    assertInvalidArgument(() => swrLoginUser('', 'AK123'), '', 'project name is empty');
    assertInvalidArgument(() => swrLoginUser('cn-north-4 ', 'AK123'), 'cn-north-4', 'project name contains');
    assertInvalidArgument(() => swrLoginUser('cn@north', 'AK123'), 'cn@north', 'project name must not contain "@"');
    assertInvalidArgument(() => swrLoginUser('cn-north-4', 'AK123\r\n'), 'AK123', 'access key contains');
  });
});
