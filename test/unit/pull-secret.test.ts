import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { dockerConfigJson as constructsDockerConfigJson } from '../../constructs/docker-config.js';
import { SwrSyncError } from '../../src/errors.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from '../../src/kubernetes/names.js';
import {
  dockerConfigJson,
  formatPullSecret,
  pullSecretManifest,
  REGISTRY_HOST,
  type PullSecretManifest,
} from '../../src/kubernetes/pull-secret.js';
import { PROJECT_NAME, swrRegistryLogin } from '../../src/swr/pull-secret.js';

/** `openssl dgst -sha256 -hmac SK` over AK, run for real; AK and SK reach it through the environment, not argv. */
function opensslLoginKey(ak: string, sk: string): string {
  const out = spawnSync('sh', ['-c', 'printf "%s" "$AK" | openssl dgst -sha256 -hmac "$SK"'], {
    env: { PATH: process.env.PATH, AK: ak, SK: sk },
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  const match = /= ?([0-9a-f]{64})\s*$/.exec(out.stdout);
  assert.ok(match, `unexpected openssl output: ${out.stdout}`);
  return match[1]!;
}

function alnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/** The `auths` object inside a manifest, through both base64 layers. */
function decode(manifest: PullSecretManifest): Record<string, { username: string; password: string; auth: string }> {
  const json = Buffer.from(manifest.data['.dockerconfigjson'], 'base64').toString('utf8');
  return (JSON.parse(json) as { auths: Record<string, { username: string; password: string; auth: string }> }).auths;
}

function throwsInvalid(fn: () => unknown, mentions: RegExp, secret?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SwrSyncError, String(e));
    assert.equal(e.code, 'ERR_INVALID_ARGUMENT');
    assert.match(e.message, mentions);
    if (secret) assert.ok(!e.message.includes(secret), `message leaks a secret: ${e.message}`);
    return true;
  });
}

describe('pull secret manifest', () => {
  const ak = alnum(20);
  const sk = alnum(40);
  const harborPassword = `pw-${randomBytes(12).toString('base64url')}:with colon`;

  it('holds the SWR login (PROJECT@AK, the key openssl computes) and a third-party login in one Secret', () => {
    const swr = swrRegistryLogin({
      server: 'swr.cn-north-4.myhuaweicloud.com',
      projectName: 'cn-north-4',
      accessKey: ak,
      secretKey: sk,
    });
    const manifest = pullSecretManifest({
      name: 'my-imagepull-secret',
      namespace: 'shop',
      registries: [swr, { server: 'harbor.example.com:8443', username: 'robot$mirror', password: harborPassword }],
    });
    assert.deepEqual(Object.keys(manifest), ['apiVersion', 'kind', 'metadata', 'type', 'data']);
    assert.equal(manifest.apiVersion, 'v1');
    assert.equal(manifest.kind, 'Secret');
    assert.equal(manifest.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(manifest.metadata, { name: 'my-imagepull-secret', namespace: 'shop' });
    assert.deepEqual(Object.keys(manifest.data), ['.dockerconfigjson']);

    const auths = decode(manifest);
    assert.deepEqual(Object.keys(auths), ['swr.cn-north-4.myhuaweicloud.com', 'harbor.example.com:8443']);
    const key = opensslLoginKey(ak, sk);
    assert.deepEqual(auths['swr.cn-north-4.myhuaweicloud.com'], {
      username: `cn-north-4@${ak}`,
      password: key,
      auth: Buffer.from(`cn-north-4@${ak}:${key}`).toString('base64'),
    });
    const harbor = auths['harbor.example.com:8443']!;
    assert.equal(harbor.password, harborPassword);
    // auth splits at the first ':' (RFC 7617): the password keeps its own colons.
    const plain = Buffer.from(harbor.auth, 'base64').toString('utf8');
    assert.equal(plain.slice(0, plain.indexOf(':')), 'robot$mirror');
    assert.equal(plain.slice(plain.indexOf(':') + 1), harborPassword);
  });

  it('leaves the namespace out when none is given (kubectl -n decides)', () => {
    const manifest = pullSecretManifest({
      name: 'p',
      registries: [{ server: 'r.example', username: 'u', password: 'p' }],
    });
    assert.deepEqual(manifest.metadata, { name: 'p' });
  });

  it('JSON and YAML serialisations parse back to the same manifest', () => {
    const manifest = pullSecretManifest({
      name: 'p',
      namespace: 'ns',
      registries: [{ server: 'r.example', username: 'u', password: 'p' }],
    });
    const json = formatPullSecret(manifest, 'json');
    const yaml = formatPullSecret(manifest, 'yaml');
    assert.ok(json.endsWith('}\n') && yaml.endsWith('\n'));
    assert.deepEqual(JSON.parse(json), manifest);
    assert.deepEqual(parseYaml(yaml), manifest);
    assert.match(yaml, /^apiVersion: v1\nkind: Secret\n/);
    assert.ok(
      yaml.split('\n').some((line) => line.trim() === `.dockerconfigjson: ${manifest.data['.dockerconfigjson']}`),
      'base64 on one line',
    );
  });

  it('the constructs build the same .dockerconfigjson for literal credentials (one implementation)', () => {
    const registries = [
      { server: 'swr.cn-north-4.myhuaweicloud.com', username: `cn-north-4@${ak}`, password: opensslLoginKey(ak, sk) },
      { server: 'ghcr.io', username: 'bot', password: 'hunter2', email: 'ops@example.com' },
    ];
    assert.equal(constructsDockerConfigJson(registries), dockerConfigJson(registries));
    assert.deepEqual(JSON.parse(dockerConfigJson(registries)).auths['ghcr.io'], {
      username: 'bot',
      password: 'hunter2',
      auth: Buffer.from('bot:hunter2').toString('base64'),
      email: 'ops@example.com',
    });
  });

  it('rejects bad names, hosts and logins, naming the rule and never the password', () => {
    const ok = { server: 'r.example', username: 'u', password: harborPassword };
    throwsInvalid(
      () => pullSecretManifest({ name: 'Bad_Name', registries: [ok] }),
      /secret name "Bad_Name" must be .*Kubernetes DNS subdomain/,
    );
    throwsInvalid(
      () => pullSecretManifest({ name: 'p', namespace: 'my.ns', registries: [ok] }),
      /namespace "my\.ns" must be .*Kubernetes DNS label/,
    );
    throwsInvalid(() => pullSecretManifest({ name: 'p', registries: [] }), /at least one registry/);
    throwsInvalid(
      () => pullSecretManifest({ name: 'p', registries: [{ ...ok, server: 'https://r.example/v2' }] }),
      /registry "https:\/\/r\.example\/v2" must be a registry host\[:port\]/,
    );
    throwsInvalid(
      () => pullSecretManifest({ name: 'p', registries: [ok, { ...ok, server: 'R.example' }] }),
      /named twice/,
    );
    throwsInvalid(
      () => pullSecretManifest({ name: 'p', registries: [{ ...ok, username: 'a:b' }] }),
      /must not contain ':'/,
      harborPassword,
    );
    throwsInvalid(
      () => pullSecretManifest({ name: 'p', registries: [{ ...ok, password: `${harborPassword}\n` }] }),
      /password contains control characters/,
      harborPassword,
    );
    throwsInvalid(() => pullSecretManifest({ name: 'p', registries: [{ ...ok, password: '' }] }), /password is empty/);
  });

  it('SWR login errors name the part, never the AK or SK', () => {
    const base = {
      server: 'swr.cn-north-4.myhuaweicloud.com',
      projectName: 'cn-north-4',
      accessKey: ak,
      secretKey: sk,
    };
    throwsInvalid(
      () => swrRegistryLogin({ ...base, accessKey: `${ak}-x` }),
      /access key must be letters and digits only/,
      ak,
    );
    throwsInvalid(() => swrRegistryLogin({ ...base, secretKey: `${sk}\n` }), /secret key contains whitespace/, sk);
    throwsInvalid(
      () => swrRegistryLogin({ ...base, projectName: 'cn@north' }),
      /project name "cn@north" must be a regional project name/,
    );
    throwsInvalid(
      () => swrRegistryLogin({ ...base, server: 'swr.cn-north-4.myhuaweicloud.com/org' }),
      /SWR address .* must be a registry host/,
    );
  });
});

describe('name and host rules', () => {
  const table: Array<[string, { test: (v: string) => boolean }, string[], string[]]> = [
    [
      'DNS1123_SUBDOMAIN',
      DNS1123_SUBDOMAIN,
      ['a', 'my-secret', 'a.b-c.d', `a.${'b'.repeat(251)}`, '0pull'],
      ['', 'A', '-a', 'a-', 'a..b', 'a.-b', 'a_b', 'a'.repeat(254)],
    ],
    [
      'DNS1123_LABEL',
      DNS1123_LABEL,
      ['default', 'kube-system', 'a'.repeat(63)],
      ['', 'my.ns', 'Shop', '-a', 'a'.repeat(64)],
    ],
    [
      'REGISTRY_HOST',
      REGISTRY_HOST,
      [
        'swr.cn-north-4.myhuaweicloud.com',
        '127.0.0.1:5000',
        'localhost',
        '[::1]:5000',
        'Harbor.Example.com',
        'r.example:65535',
      ],
      [
        '',
        'https://r.example',
        'r.example/ns',
        'r.example:0',
        'r.example:65536',
        'r..example',
        '-r.example',
        'r example',
      ],
    ],
    [
      'PROJECT_NAME',
      PROJECT_NAME,
      ['cn-north-4', 'ap-southeast-3', 'eu-de_myproject', 'cn-north-4_team.a'],
      ['', 'a@b', 'cn north', '_x', 'a'.repeat(65)],
    ],
  ];
  for (const [name, rule, good, bad] of table) {
    it(name, () => {
      for (const v of good) assert.equal(rule.test(v), true, `${name} accepts ${JSON.stringify(v)}`);
      for (const v of bad) assert.equal(rule.test(v), false, `${name} rejects ${JSON.stringify(v)}`);
    });
  }
});
