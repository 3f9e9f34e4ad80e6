import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { runCli } from './support.js';

// Invalid input (exit 2, nothing sent) is covered case by case in bad-input.test.ts.

describe('swr-sync login-key', () => {
  const ak = `AK${randomBytes(9).toString('hex').toUpperCase()}`;
  const sk = randomBytes(20).toString('base64url');

  /** Huawei's documented recipe (docs/swr.md), run for real. */
  function openssl(): string {
    const recipe = `printf "$AK" | openssl dgst -binary -sha256 -hmac "$SK" | od -An -vtx1 | sed 's/[ \\n]//g' | sed 'N;s/\\n//'`;
    const out = spawnSync('bash', ['-c', recipe], {
      env: { PATH: process.env.PATH, AK: ak, SK: sk },
      encoding: 'utf8',
    });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout.replace(/\s+/g, '');
  }

  test('from environment variables: user PROJECT@AK and the key openssl computes', async () => {
    const run = await runCli(['login-key', '--project-name', 'cn-north-4'], {
      env: { HW_ACCESS_KEY: ak, HW_SECRET_KEY: sk },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `cn-north-4@${ak}\n${openssl()}\n`);
  });

  test('--ak with the SK on stdin, custom variable names, JSON', async () => {
    const run = await runCli(['login-key', '--ak', ak, '--sk-stdin', '--project-name', 'ap-southeast-3', '--json'], {
      input: `${sk}\n`,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { user: `ap-southeast-3@${ak}`, key: openssl() });
    const named = await runCli(['login-key', '--ak-env', 'MY_AK', '--sk-env', 'MY_SK'], {
      env: { MY_AK: ak, MY_SK: sk, HW_REGION_NAME: 'eu-west-101' },
    });
    assert.equal(named.stdout, `eu-west-101@${ak}\n${openssl()}\n`);
  });

  test('the SK never appears in output or errors', async () => {
    const run = await runCli(['login-key', '--sk-stdin', '--ak-env', 'MY_AK'], {
      input: `${sk} with space\n`,
      env: { MY_AK: ak },
    });
    assert.equal(run.code, 2);
    assert.ok(!(run.stdout + run.stderr).includes(sk));
  });
});
