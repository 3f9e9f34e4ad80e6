import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAuthJson, parseAuthJson } from '../../src/config/auth-json.js';
import { chainCredentialSources, normalizeRegistryHost } from '../../src/config/credentials.js';
import {
  defaultDockerConfigPath,
  loadDefaultDockerConfig,
  loadDockerConfig,
  parseDockerConfig,
} from '../../src/config/docker-config.js';
import { ConfigError, SwrSyncError } from '../../src/errors.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function authJson(doc: unknown, env: NodeJS.ProcessEnv = {}) {
  return parseAuthJson(JSON.stringify(doc), 'auth.json', env);
}

/** Asserts a ConfigError that names file and key, states `rule`, and contains none of `secrets`. */
function assertConfigError(
  fn: () => unknown,
  expected: { file: string; key?: string; rule: string | RegExp; secrets?: string[] },
) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.file, expected.file);
    assert.ok(e.message.includes(expected.file), e.message);
    if (expected.key !== undefined) {
      assert.equal(e.key, expected.key);
      assert.ok(e.message.includes(`key "${expected.key}"`), e.message);
    }
    if (typeof expected.rule === 'string') assert.ok(e.message.includes(expected.rule), e.message);
    else assert.match(e.message, expected.rule);
    for (const secret of expected.secrets ?? [])
      assert.ok(!e.message.includes(secret), `message leaks a secret: ${e.message}`);
    return true;
  });
}

describe('normalizeRegistryHost', () => {
  it('folds Docker Hub names into docker.io', () => {
    for (const s of [
      'https://index.docker.io/v1/',
      'index.docker.io',
      'registry-1.docker.io',
      'registry.hub.docker.com',
      'DOCKER.IO',
      'https://registry-1.docker.io/v2/',
    ]) {
      assert.equal(normalizeRegistryHost(s), 'docker.io', s);
    }
  });

  it('strips scheme and trailing API path, lowercases only the host', () => {
    assert.equal(normalizeRegistryHost('http://Reg.Example.com:5000/'), 'reg.example.com:5000');
    assert.equal(normalizeRegistryHost('https://reg.example.com/v2/'), 'reg.example.com');
    assert.equal(normalizeRegistryHost('https://reg.example.com/v2'), 'reg.example.com');
    assert.equal(normalizeRegistryHost('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(normalizeRegistryHost('Reg.Example.com/ns/App'), 'reg.example.com/ns/App');
    assert.equal(normalizeRegistryHost('[::1]:5000'), '[::1]:5000');
  });
});

describe('auth.json', () => {
  const doc = {
    'reg.example.com': { username: 'wide', password: 'pw-wide' },
    'reg.example.com/ns': { username: 'ns', password: 'pw-ns' },
    'reg.example.com/ns/team': { username: 'team', password: 'pw-team' },
  };

  it('picks the longest matching key', async () => {
    const source = authJson(doc);
    assert.equal((await source.lookup('reg.example.com', 'ns/app'))?.credential?.username, 'ns');
    assert.equal((await source.lookup('reg.example.com', 'ns/team/app'))?.credential?.username, 'team');
    assert.equal((await source.lookup('reg.example.com', 'ns/team'))?.credential?.username, 'team');
    assert.equal((await source.lookup('reg.example.com', 'other/app'))?.credential?.username, 'wide');
    assert.deepEqual(await source.lookup('reg.example.com', 'ns/app'), {
      credential: { username: 'ns', password: 'pw-ns' },
      insecure: false,
      source: 'auth.json key "reg.example.com/ns"',
    });
  });

  it('matches a namespace only at a segment boundary', async () => {
    const source = authJson(doc);
    assert.equal((await source.lookup('reg.example.com', 'ns2/app'))?.credential?.username, 'wide');
    assert.equal((await source.lookup('reg.example.com', 'ns/teamwork/app'))?.credential?.username, 'ns');
    const onlyNs = authJson({ 'reg.example.com/ns': { username: 'ns', password: 'pw' } });
    assert.equal(await onlyNs.lookup('reg.example.com', 'ns2/app'), undefined);
    assert.equal(await onlyNs.lookup('reg.example.com', 'nsapp'), undefined);
  });

  it('matches the exact host: port, suffixes and look-alikes never match', async () => {
    const source = authJson({
      '127.0.0.1:5000/ns': { username: 'local', password: 'pw-local' },
      'example.com': { username: 'ex', password: 'pw-ex' },
    });
    assert.equal((await source.lookup('127.0.0.1:5000', 'ns/app'))?.source, 'auth.json key "127.0.0.1:5000/ns"');
    assert.equal(await source.lookup('127.0.0.1:5001', 'ns/app'), undefined);
    assert.equal(await source.lookup('127.0.0.1', 'ns/app'), undefined);
    assert.equal(await source.lookup('localhost:5000', 'ns/app'), undefined);
    assert.equal((await source.lookup('example.com', 'a/b'))?.credential?.username, 'ex');
    assert.equal((await source.lookup('Example.COM', 'a/b'))?.credential?.username, 'ex');
    for (const host of ['evil-example.com', 'example.com.evil', 'sub.example.com', 'example.com:443', 'example.co']) {
      assert.equal(await source.lookup(host, 'a/b'), undefined, host);
    }
  });

  it('folds Docker Hub keys', async () => {
    const source = authJson({ 'index.docker.io/library': { username: 'hub', password: 'pw-hub' } });
    assert.equal((await source.lookup('docker.io', 'library/nginx'))?.credential?.username, 'hub');
    assert.equal(await source.lookup('docker.io', 'bitnami/nginx'), undefined);
  });

  it('reports insecure, inherited by namespace keys that do not state it, and anonymous keys', async () => {
    const source = authJson({
      '127.0.0.1:5000': { insecure: true },
      '127.0.0.1:5000/ns': { username: 'u', password: 'p' },
      '127.0.0.1:5000/tls': { insecure: false },
      'quay.io/coreos': {},
    });
    assert.deepEqual(await source.lookup('127.0.0.1:5000', 'other/app'), {
      insecure: true,
      source: 'auth.json key "127.0.0.1:5000"',
    });
    assert.deepEqual(await source.lookup('127.0.0.1:5000', 'ns/app'), {
      credential: { username: 'u', password: 'p' },
      insecure: true,
      source: 'auth.json key "127.0.0.1:5000/ns"',
    });
    assert.equal((await source.lookup('127.0.0.1:5000', 'tls/app'))?.insecure, false);
    assert.deepEqual(await source.lookup('quay.io', 'coreos/etcd'), {
      insecure: false,
      source: 'auth.json key "quay.io/coreos"',
    });
  });

  it('expands ${VAR} and $VAR in username and password', async () => {
    const env = { REG_USER: 'cn-north-4@AKDUMMY', REG_PASS: 'pw-from-env', PRE: 'x', POST: 'y' };
    const source = authJson(
      {
        'a.example.com': { username: '$REG_USER', password: '${REG_PASS}' },
        'b.example.com': { username: 'u-${PRE}-$POST.z', password: 'lit$$eral$' },
        'c.example.com': { username: 'u', password: '$1 and $ and $-' },
      },
      env,
    );
    assert.deepEqual((await source.lookup('a.example.com', 'x/y'))?.credential, {
      username: 'cn-north-4@AKDUMMY',
      password: 'pw-from-env',
    });
    assert.deepEqual((await source.lookup('b.example.com', 'x/y'))?.credential, {
      username: 'u-x-y.z',
      password: 'lit$eral$',
    });
    assert.equal((await source.lookup('c.example.com', 'x/y'))?.credential?.password, '$1 and $ and $-');
  });

  it('reads variables from process.env by default', async () => {
    process.env.SWR_SYNC_TEST_PASSWORD = 'from-process-env';
    try {
      const source = parseAuthJson(
        '{"r.example.com": {"username": "u", "password": "$SWR_SYNC_TEST_PASSWORD"}}',
        'auth.json',
      );
      assert.equal((await source.lookup('r.example.com', 'a/b'))?.credential?.password, 'from-process-env');
    } finally {
      delete process.env.SWR_SYNC_TEST_PASSWORD;
    }
  });

  it('names the file, key and variable of an unset variable, never a secret', () => {
    const env = { REG_USER: 'user-secret-value', OTHER_SECRET: 'other-secret-value' };
    assertConfigError(
      () =>
        authJson(
          { 'swr.cn-north-4.myhuaweicloud.com/team': { username: '${REG_USER}', password: '${MISSING_PASSWORD}' } },
          env,
        ),
      {
        file: 'auth.json',
        key: 'swr.cn-north-4.myhuaweicloud.com/team',
        rule: '"password": environment variable MISSING_PASSWORD is not set',
        secrets: ['user-secret-value', 'other-secret-value'],
      },
    );
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u', password: '$MISSING_BARE' } }, env), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: 'MISSING_BARE is not set',
    });
  });

  it('rejects a variable that expands to nothing, and malformed ${', () => {
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u', password: '${EMPTY}' } }, { EMPTY: '' }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: '"password": EMPTY expanded to an empty value',
    });
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u', password: 'abc${NOPE' } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: 'has no closing',
      secrets: ['abc'],
    });
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u', password: 'x${not-a-name}' } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: 'must hold an environment variable name',
      secrets: ['not-a-name'],
    });
  });

  it('rejects wrong types and unknown fields, naming file, key and rule without the value', () => {
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u', password: 12345678 } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: '"password" must be a string',
      secrets: ['12345678'],
    });
    assertConfigError(() => authJson({ 'r.example.com': { insecure: 'yes' } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: '"insecure" must be a boolean',
    });
    assertConfigError(() => authJson({ 'r.example.com': { user: 'u', password: 'hunter2-secret' } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: 'unknown field "user" (allowed: username, password, insecure)',
      secrets: ['hunter2-secret'],
    });
    assertConfigError(() => authJson({ 'r.example.com': 'user:hunter2-secret' }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: 'must be an object',
      secrets: ['hunter2-secret'],
    });
    assertConfigError(() => authJson({ 'r.example.com': { username: 'u' } }), {
      file: 'auth.json',
      key: 'r.example.com',
      rule: '"password" is missing',
    });
    assertConfigError(() => authJson(['r.example.com']), { file: 'auth.json', rule: 'must be an object' });
  });

  it('rejects keys that are no registry scope, and two keys for one scope', () => {
    assertConfigError(() => authJson({ 'not a host': {} }), {
      file: 'auth.json',
      key: 'not a host',
      rule: 'registry[:port]',
    });
    assertConfigError(() => authJson({ 'r.example.com//ns': {} }), {
      file: 'auth.json',
      key: 'r.example.com//ns',
      rule: 'registry[:port]',
    });
    assertConfigError(() => authJson({ 'R.example.com/ns': {}, 'r.example.com/ns/': {} }), {
      file: 'auth.json',
      key: 'r.example.com/ns/',
      rule: 'same registry scope as key "R.example.com/ns"',
    });
  });

  it('accepts YAML', async () => {
    const yaml = [
      '# image-migrator auth, YAML form',
      'swr.cn-north-4.myhuaweicloud.com:',
      '  username: cn-north-4@${AK}',
      '  password: $LOGIN_KEY',
      '"127.0.0.1:5000/ns":',
      '  insecure: true',
      'quay.io/coreos:',
      '',
    ].join('\n');
    const source = parseAuthJson(yaml, 'auth.yaml', { AK: 'AKDUMMY', LOGIN_KEY: 'abc123' });
    assert.deepEqual((await source.lookup('swr.cn-north-4.myhuaweicloud.com', 'team/app'))?.credential, {
      username: 'cn-north-4@AKDUMMY',
      password: 'abc123',
    });
    assert.deepEqual(await source.lookup('127.0.0.1:5000', 'ns/app'), {
      insecure: true,
      source: 'auth.yaml key "127.0.0.1:5000/ns"',
    });
    assert.deepEqual(await source.lookup('quay.io', 'coreos/etcd'), {
      insecure: false,
      source: 'auth.yaml key "quay.io/coreos"',
    });
  });

  it('reports syntax errors by position, without quoting the text', () => {
    assertConfigError(
      () => parseAuthJson('r.example.com:\n  username: u\n  password: "s3cr3t-yaml\n', 'auth.yaml', {}),
      {
        file: 'auth.yaml',
        rule: /not valid JSON or YAML at line \d+, column \d+/,
        secrets: ['s3cr3t-yaml'],
      },
    );
    assertConfigError(
      () => parseAuthJson('{"r.example.com": {"username": "u", "password": "s3cr3t-json" ]}', 'auth.json', {}),
      {
        file: 'auth.json',
        rule: 'not valid JSON or YAML',
        secrets: ['s3cr3t-json'],
      },
    );
  });

  it('treats an empty object as anonymous everywhere', async () => {
    const source = authJson({});
    assert.deepEqual(source.entries, []);
    assert.equal(await source.lookup('docker.io', 'library/nginx'), undefined);
    assert.equal(await source.lookup('127.0.0.1:5000', 'ns/app'), undefined);
  });

  it('loads files, and names a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swr-auth-'));
    try {
      const file = join(dir, 'auth.json');
      await writeFile(file, JSON.stringify({ 'r.example.com': { username: 'u', password: '${P}' } }));
      const source = await loadAuthJson(file, { P: 'pw' });
      assert.deepEqual(await source.lookup('r.example.com', 'a/b'), {
        credential: { username: 'u', password: 'pw' },
        insecure: false,
        source: `${file} key "r.example.com"`,
      });
      const missing = join(dir, 'nope.json');
      await assert.rejects(loadAuthJson(missing), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'ERR_CONFIG_READ');
        assert.ok(e.message.includes(missing) && e.message.includes('file not found'), e.message);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docker config', () => {
  const config = (doc: unknown) => parseDockerConfig(JSON.stringify(doc), '/home/u/.docker/config.json');

  it('decodes auth (base64 user:pass) for the exact host', async () => {
    const source = config({ auths: { '127.0.0.1:5000': { auth: b64('alice:pa:ss') } } });
    assert.deepEqual(await source.lookup('127.0.0.1:5000', 'ns/app'), {
      credential: { username: 'alice', password: 'pa:ss' },
      insecure: false,
      source: 'docker config /home/u/.docker/config.json key "127.0.0.1:5000"',
    });
    assert.equal(await source.lookup('127.0.0.1:5001', 'ns/app'), undefined);
  });

  it('reads username/password and identitytoken entries', async () => {
    const source = config({
      auths: {
        'https://reg.example.com/v2/': { username: 'bob', password: 'pw-bob' },
        'tok.example.com': { auth: b64('ignored:'), identitytoken: 'refresh-token' },
        'empty.example.com': {},
      },
      psFormat: 'table {{.ID}}',
    });
    assert.deepEqual((await source.lookup('reg.example.com', 'a/b'))?.credential, {
      username: 'bob',
      password: 'pw-bob',
    });
    assert.deepEqual((await source.lookup('tok.example.com', 'a/b'))?.credential, {
      username: '<token>',
      password: 'refresh-token',
    });
    assert.equal(await source.lookup('empty.example.com', 'a/b'), undefined);
    assert.equal(await source.lookup('example.com', 'a/b'), undefined);
  });

  it('folds Docker Hub keys into docker.io', async () => {
    const legacy = config({ auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') } } });
    for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      assert.deepEqual(
        (await legacy.lookup(host, 'library/nginx'))?.credential,
        { username: 'hubuser', password: 'hubpass' },
        host,
      );
    }
    const bare = config({ auths: { 'docker.io': { auth: b64('podman:pw') } } });
    assert.equal((await bare.lookup('docker.io', 'library/nginx'))?.credential?.username, 'podman');
  });

  it('honours namespace-scoped authfile keys (skopeo/podman)', async () => {
    const source = config({ auths: { 'quay.io': { auth: b64('wide:1') }, 'quay.io/team': { auth: b64('team:2') } } });
    assert.equal((await source.lookup('quay.io', 'team/app'))?.credential?.username, 'team');
    assert.equal((await source.lookup('quay.io', 'teamx/app'))?.credential?.username, 'wide');
  });

  it('rejects a malformed auth or wrong types, naming file and key but not the value', () => {
    assertConfigError(() => config({ auths: { 'r.example.com': { auth: b64('no-colon-secret') } } }), {
      file: '/home/u/.docker/config.json',
      key: 'auths["r.example.com"]',
      rule: '"auth" must be base64 of "username:password"',
      secrets: ['no-colon-secret', b64('no-colon-secret')],
    });
    assertConfigError(() => config({ auths: { 'r.example.com': { auth: 'not base64 at all!' } } }), {
      file: '/home/u/.docker/config.json',
      key: 'auths["r.example.com"]',
      rule: 'base64',
      secrets: ['not base64 at all!'],
    });
    assertConfigError(() => config({ auths: { 'r.example.com': { password: 42 } } }), {
      file: '/home/u/.docker/config.json',
      key: 'auths["r.example.com"]',
      rule: '"password" must be a string',
    });
    assertConfigError(() => config({ credsStore: 'pass', credHelpers: { 'r.example.com': 7 } }), {
      file: '/home/u/.docker/config.json',
      key: 'credHelpers["r.example.com"]',
      rule: 'must be a string',
    });
    assertConfigError(() => config({ credsStore: '../../tmp/evil' }), {
      file: '/home/u/.docker/config.json',
      key: 'credsStore',
      rule: 'credential helper name',
    });
  });

  it('finds the default file; a missing default means no credentials, a missing explicit file is an error', async () => {
    assert.equal(
      defaultDockerConfigPath({ DOCKER_CONFIG: '/etc/dockercfg', HOME: '/home/u' }),
      '/etc/dockercfg/config.json',
    );
    assert.equal(defaultDockerConfigPath({ HOME: '/home/u' }), '/home/u/.docker/config.json');

    const dir = await mkdtemp(join(tmpdir(), 'swr-dockercfg-'));
    try {
      const empty = await loadDefaultDockerConfig({ DOCKER_CONFIG: dir });
      assert.equal(empty.file, join(dir, 'config.json'));
      assert.equal(await empty.lookup('docker.io', 'library/nginx'), undefined);

      await assert.rejects(loadDockerConfig(join(dir, 'config.json')), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'ERR_CONFIG_READ');
        return true;
      });

      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example.com': { auth: b64('u:p') } } }));
      const found = await loadDefaultDockerConfig({ DOCKER_CONFIG: dir });
      assert.deepEqual((await found.lookup('r.example.com', 'a/b'))?.credential, { username: 'u', password: 'p' });
      const explicit = await loadDockerConfig(join(dir, 'config.json'));
      assert.equal((await explicit.lookup('r.example.com', 'a/b'))?.credential?.password, 'p');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('credential helpers (real docker-credential-* programs on PATH)', () => {
  let bin: string;
  let savedPath: string | undefined;

  interface HelperCall {
    readonly argvFile: string;
    readonly stdin: string;
  }

  /** A helper that answers the server URLs in `answers` and says "credentials not found" for any other. */
  async function installHelper(
    name: string,
    answers: Record<string, { username: string; secret: string }>,
  ): Promise<void> {
    const arms = Object.entries(answers).map(([url, a]) => {
      const json = JSON.stringify({ ServerURL: url, Username: a.username, Secret: a.secret });
      assert.ok(!json.includes("'") && !url.includes("'"));
      return `  '${url}') printf '%s' '${json}' ;;`;
    });
    await installScript(name, [
      'case "$url" in',
      ...arms,
      "  *) echo 'credentials not found in native keychain'; exit 1 ;;",
      'esac',
    ]);
  }

  /** Records each call's argv and stdin in `<bin>/<name>.calls/`, then runs `body` with `$url` set. */
  async function installScript(name: string, body: string[]): Promise<void> {
    const calls = join(bin, `${name}.calls`);
    await mkdir(calls, { recursive: true });
    const script = [
      '#!/bin/sh',
      `calls='${calls}'`,
      'n=$(( $(ls "$calls" | grep -c "^argv\\.") + 1 ))',
      'printf "%s\\n" "$#" "$@" > "$calls/argv.$n"',
      'cat > "$calls/stdin.$n"',
      'url=$(cat "$calls/stdin.$n")',
      ...body,
      '',
    ].join('\n');
    const file = join(bin, `docker-credential-${name}`);
    await writeFile(file, script);
    await chmod(file, 0o755);
  }

  async function callsOf(name: string): Promise<HelperCall[]> {
    const dir = join(bin, `${name}.calls`);
    const count = (await readdir(dir)).filter((f) => f.startsWith('argv.')).length;
    const calls: HelperCall[] = [];
    for (let n = 1; n <= count; n++) {
      calls.push({
        argvFile: await readFile(join(dir, `argv.${n}`), 'utf8'),
        stdin: await readFile(join(dir, `stdin.${n}`), 'utf8'),
      });
    }
    return calls;
  }

  const ARGV_GET = '1\nget\n'; // argc 1, argv[1] "get": nothing else, and certainly no secret

  before(async () => {
    bin = await mkdtemp(join(tmpdir(), 'swr-credhelpers-'));
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
    await installHelper('testhelper', {
      'helped.example.com:5000': { username: 'helper-user', secret: 'helper-secret' },
      'cached.example.com': { username: 'cache-user', secret: 'cache-secret' },
    });
    await installHelper('teststore', {
      'https://index.docker.io/v1/': { username: '<token>', secret: 'hub-identity-token' },
      'stored.example.com': { username: 'store-user', secret: 'store-secret' },
    });
    await installHelper('podmanstyle', { 'docker.io': { username: 'bare-user', secret: 'bare-secret' } });
    await installScript('broken', [
      `echo '{"Secret":"leaked-stdout-secret"}'`,
      "echo 'leaked-stderr-secret' >&2",
      'exit 3',
    ]);
    await installScript('garbage', ["echo 'password=leaked-garbage-secret'"]);
  });

  after(async () => {
    if (savedPath === undefined) delete process.env.PATH;
    else process.env.PATH = savedPath;
    await rm(bin, { recursive: true, force: true });
  });

  it('asks the per-host helper with argv `get` and the server URL on stdin', async () => {
    const source = config({
      auths: {
        'helped.example.com:5000': { auth: b64('file-user:file-pass') },
        'other.example.com': { auth: b64('o:p') },
      },
      credHelpers: { 'helped.example.com:5000': 'testhelper' },
    });
    const access = await source.lookup('helped.example.com:5000', 'ns/app');
    assert.deepEqual(access, {
      credential: { username: 'helper-user', password: 'helper-secret' },
      insecure: false,
      source: 'docker config /test/config.json (docker-credential-testhelper)',
    });
    assert.deepEqual(await callsOf('testhelper'), [{ argvFile: ARGV_GET, stdin: 'helped.example.com:5000' }]);

    assert.deepEqual((await source.lookup('other.example.com', 'a/b'))?.credential, { username: 'o', password: 'p' });
    assert.equal(await source.lookup('helped.example.com:5001', 'ns/app'), undefined);
    assert.equal((await callsOf('testhelper')).length, 1, 'other hosts do not reach the per-host helper');
  });

  it('falls back to credsStore for hosts without inline credentials, Docker Hub under its v1 URL', async () => {
    const source = config({
      auths: { 'https://index.docker.io/v1/': {}, 'inline.example.com': { auth: b64('inline:pw') } },
      credsStore: 'teststore',
    });
    assert.deepEqual(await source.lookup('docker.io', 'library/nginx'), {
      credential: { username: '<token>', password: 'hub-identity-token' },
      insecure: false,
      source: 'docker config /test/config.json (docker-credential-teststore)',
    });
    assert.deepEqual((await source.lookup('stored.example.com', 'a/b'))?.credential, {
      username: 'store-user',
      password: 'store-secret',
    });
    assert.deepEqual((await source.lookup('inline.example.com', 'a/b'))?.credential, {
      username: 'inline',
      password: 'pw',
    });
    // "credentials not found in native keychain" with exit 1: no credential, not an error.
    assert.equal(await source.lookup('unknown.example.com', 'a/b'), undefined);
    assert.deepEqual(await callsOf('teststore'), [
      { argvFile: ARGV_GET, stdin: 'https://index.docker.io/v1/' },
      { argvFile: ARGV_GET, stdin: 'stored.example.com' },
      { argvFile: ARGV_GET, stdin: 'unknown.example.com' },
    ]);
  });

  it('tries docker.io after the v1 URL for Docker Hub', async () => {
    const source = config({ credHelpers: { 'index.docker.io': 'podmanstyle' } });
    assert.deepEqual((await source.lookup('registry-1.docker.io', 'library/nginx'))?.credential, {
      username: 'bare-user',
      password: 'bare-secret',
    });
    assert.deepEqual(await callsOf('podmanstyle'), [
      { argvFile: ARGV_GET, stdin: 'https://index.docker.io/v1/' },
      { argvFile: ARGV_GET, stdin: 'docker.io' },
    ]);
  });

  it('runs a helper once per host for the process lifetime', async () => {
    const a = config({ credHelpers: { 'cached.example.com': 'testhelper' } });
    const b = parseDockerConfig(JSON.stringify({ credsStore: 'testhelper' }), '/other/config.json');
    const before = (await callsOf('testhelper')).length;
    const answers = await Promise.all([
      a.lookup('cached.example.com', 'x/y'),
      a.lookup('cached.example.com', 'x/z'),
      b.lookup('cached.example.com', 'p/q'),
    ]);
    assert.ok(answers.every((r) => r?.credential?.password === 'cache-secret'));
    assert.equal((await a.lookup('https://cached.example.com/', 'x/y'))?.credential?.username, 'cache-user');
    assert.equal((await callsOf('testhelper')).length, before + 1);
  });

  it('reports a failing helper by name and host without its output, and does not cache the failure', async () => {
    const source = config({ credHelpers: { 'fail.example.com': 'broken' } });
    for (let attempt = 1; attempt <= 2; attempt++) {
      await assert.rejects(source.lookup('fail.example.com', 'a/b'), (e: unknown) => {
        assert.ok(e instanceof SwrSyncError);
        assert.equal(e.code, 'ERR_CREDENTIAL_HELPER');
        assert.equal(e.registry, 'fail.example.com');
        assert.ok(e.message.includes('docker-credential-broken') && e.message.includes('fail.example.com'), e.message);
        assert.ok(e.message.includes('exit status 3'), e.message);
        assert.ok(!e.message.includes('leaked'), e.message);
        return true;
      });
    }
    assert.equal((await callsOf('broken')).length, 2);
  });

  it('rejects helper output that is not credentials JSON, without quoting it', async () => {
    const source = config({ credsStore: 'garbage' });
    await assert.rejects(source.lookup('g.example.com', 'a/b'), (e: unknown) => {
      assert.ok(e instanceof SwrSyncError && e.code === 'ERR_CREDENTIAL_HELPER');
      assert.ok(!e.message.includes('leaked'), e.message);
      return true;
    });
  });

  it('reports a helper that is not installed', async () => {
    const source = config({ credHelpers: { 'gone.example.com': 'notinstalled' } });
    await assert.rejects(source.lookup('gone.example.com', 'a/b'), (e: unknown) => {
      assert.ok(e instanceof SwrSyncError && e.code === 'ERR_CREDENTIAL_HELPER');
      assert.ok(e.message.includes('docker-credential-notinstalled is not on PATH'), e.message);
      return true;
    });
  });

  function config(doc: unknown) {
    return parseDockerConfig(JSON.stringify(doc), '/test/config.json');
  }
});

describe('chainCredentialSources', () => {
  it('asks sources in order; the first with a login supplies it', async () => {
    const auth = authJson({ 'a.example.com': { username: 'from-auth', password: 'p1' }, 'anon.example.com': {} });
    const docker = parseDockerConfig(
      JSON.stringify({
        auths: {
          'a.example.com': { auth: b64('from-docker:p2') },
          'b.example.com': { auth: b64('docker-b:p3') },
          'anon.example.com': { auth: b64('x:y') },
        },
      }),
      'config.json',
    );
    const chain = chainCredentialSources(auth, docker);
    assert.equal((await chain.lookup('a.example.com', 'x/y'))?.credential?.username, 'from-auth');
    assert.equal((await chain.lookup('b.example.com', 'x/y'))?.credential?.username, 'docker-b');
    // An auth.json key without a login lets a later source supply one, keeping its own `insecure`.
    assert.equal((await chain.lookup('anon.example.com', 'x/y'))?.credential?.username, 'x');
    const insecureOnly = chainCredentialSources(authJson({ 'anon.example.com': { insecure: true } }), docker);
    assert.equal((await insecureOnly.lookup('anon.example.com', 'x/y'))?.insecure, true);
    assert.equal((await insecureOnly.lookup('anon.example.com', 'x/y'))?.credential?.username, 'x');
    // Nobody has a login: the entry that matched answers (anonymous).
    assert.deepEqual(
      await chainCredentialSources(authJson({ 'anon.example.com': {} })).lookup('anon.example.com', 'x/y'),
      { insecure: false, source: 'auth.json key "anon.example.com"' },
    );
    assert.equal(await chain.lookup('c.example.com', 'x/y'), undefined);
    assert.equal(await chainCredentialSources().lookup('a.example.com', 'x/y'), undefined);
  });
});
