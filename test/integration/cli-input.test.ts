import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startProxy, startRegistry, type Proxy, type RunningRegistry } from '../harness/index.js';
import { runCli } from './support.js';

/**
 * Bad input never reaches a registry: exit 2, one line naming the argument or file, the value and the rule, no
 * stack trace. A proxy in front of the destination proves that nothing was sent.
 */
describe('swr-sync: invalid input (exit 2, nothing sent)', () => {
  let registry: RunningRegistry;
  let proxy: Proxy;
  let dir: string;
  const hex = 'c'.repeat(64);

  before(async () => {
    registry = await startRegistry();
    proxy = await startProxy({ target: registry.url });
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-input-'));
    await writeFile(join(dir, 'broken.json'), '{ "127.0.0.1:5000": { "username": "u", ');
    await writeFile(join(dir, 'wrong-type.json'), JSON.stringify({ 'reg.example.com': { username: 'u', password: 42 } }));
    await writeFile(join(dir, 'unset-var.json'), JSON.stringify({ 'reg.example.com': { username: 'u', password: '${SWR_TEST_UNSET_VARIABLE}' } }));
    // A directory where a file is expected: unreadable as a file even for root (EISDIR).
    await mkdir(join(dir, 'unreadable.json'));
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  const dst = () => `${proxy.host}/mirror/app:v1`;
  const cases: Array<{ name: string; args: () => string[]; expect: RegExp; env?: Record<string, string> }> = [
    { name: 'uppercase repository', args: () => ['copy', 'reg.example.com/Team/App:v1', dst()], expect: /invalid image reference "reg\.example\.com\/Team\/App:v1": repository names must be lowercase/ },
    { name: 'empty path element', args: () => ['copy', 'reg.example.com/a//b:v1', dst()], expect: /path components must not be empty/ },
    { name: 'bad digest algorithm', args: () => ['copy', `reg.example.com/a@md5:${hex}`, dst()], expect: /digest algorithm "md5" is not supported/ },
    { name: 'bad digest length', args: () => ['copy', 'reg.example.com/a@sha256:abc', dst()], expect: /exactly 64 lowercase hex characters \(found 3\)/ },
    { name: 'tag too long', args: () => ['copy', `reg.example.com/a:${'t'.repeat(129)}`, dst()], expect: /a tag is at most 128 characters \(found 129\)/ },
    { name: 'bad destination', args: () => [`copy`, 'reg.example.com/a:v1', `${proxy.host}/UP/x`], expect: /invalid image reference .*lowercase/ },
    { name: 'URL instead of reference', args: () => ['copy', 'https://reg.example.com/a:v1', dst()], expect: /has no URL scheme/ },
    { name: 'missing destination argument', args: () => ['copy', 'reg.example.com/a:v1'], expect: /missing required argument 'destination'/ },
    { name: 'unknown flag', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--bogus'], expect: /unknown option '--bogus'/ },
    { name: 'unknown command', args: () => ['frobnicate'], expect: /unknown command 'frobnicate'/ },
    { name: 'bad --platform', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--platform', 'linux'], expect: /--platform "linux" is not os\/arch\[\/variant\]/ },
    { name: 'bad --timeout', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--timeout', '5y'], expect: /--timeout must be a duration such as 90s, 30m or 2h/ },
    { name: 'bad --stall-timeout', args: () => ['sync', '--images', 'x.json', '--stall-timeout', '0s'], expect: /--stall-timeout must be a duration/ },
    { name: 'bad --retries', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--retries', '-1'], expect: /--retries must be an integer from 0 to 20/ },
    { name: 'missing auth file', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--auth', join(dir, 'absent.json')], expect: /absent\.json/ },
    { name: 'unreadable auth file', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--auth', join(dir, 'unreadable.json')], expect: /unreadable\.json/ },
    { name: 'broken JSON auth file', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--auth', join(dir, 'broken.json')], expect: /broken\.json.*line \d+/ },
    { name: 'wrong type in auth file', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--auth', join(dir, 'wrong-type.json')], expect: /wrong-type\.json.*reg\.example\.com.*password/ },
    { name: 'unset ${VAR} in auth file', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--auth', join(dir, 'unset-var.json')], expect: /unset-var\.json.*SWR_TEST_UNSET_VARIABLE/ },
    { name: 'missing authfile', args: () => ['copy', 'reg.example.com/a:v1', dst(), '--dest-authfile', join(dir, 'nope.json')], expect: /nope\.json/ },
    { name: 'login-key without AK', args: () => ['login-key'], expect: /HW_ACCESS_KEY is not set/ },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      proxy.reset();
      const run = await runCli(c.args(), { env: c.env ?? {} });
      assert.equal(run.code, 2, `exit status 2 for ${c.name}; stderr: ${run.stderr}`);
      assert.match(run.stderr, c.expect);
      assert.doesNotMatch(run.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
      assert.equal(proxy.requests.length, 0, 'nothing was sent to the registry');
    });
  }
});

describe('swr-sync login-key', () => {
  const ak = `AK${randomBytes(9).toString('hex').toUpperCase()}`;
  const sk = randomBytes(20).toString('base64url');

  /** Huawei's documented recipe (swr-facts.md §7.1), run for real. */
  function openssl(): string {
    const recipe = `printf "$AK" | openssl dgst -binary -sha256 -hmac "$SK" | od -An -vtx1 | sed 's/[ \\n]//g' | sed 'N;s/\\n//'`;
    const out = spawnSync('bash', ['-c', recipe], { env: { PATH: process.env.PATH, AK: ak, SK: sk }, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout.replace(/\s+/g, '');
  }

  test('from environment variables: user PROJECT@AK and the key openssl computes', async () => {
    const run = await runCli(['login-key', '--project-name', 'cn-north-4'], { env: { HW_ACCESS_KEY: ak, HW_SECRET_KEY: sk } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `cn-north-4@${ak}\n${openssl()}\n`);
  });

  test('--ak with the SK on stdin, custom variable names, JSON', async () => {
    const run = await runCli(['login-key', '--ak', ak, '--sk-stdin', '--project-name', 'ap-southeast-3', '--json'], { input: `${sk}\n` });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { user: `ap-southeast-3@${ak}`, key: openssl() });
    const named = await runCli(['login-key', '--ak-env', 'MY_AK', '--sk-env', 'MY_SK'], { env: { MY_AK: ak, MY_SK: sk, HW_REGION_NAME: 'eu-west-101' } });
    assert.equal(named.stdout, `eu-west-101@${ak}\n${openssl()}\n`);
  });

  test('the SK never appears in output or errors', async () => {
    const run = await runCli(['login-key', '--sk-stdin', '--ak-env', 'MY_AK'], { input: `${sk} with space\n`, env: { MY_AK: ak } });
    assert.equal(run.code, 2);
    assert.ok(!(run.stdout + run.stderr).includes(sk));
  });
});
