import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { TerraformVariable } from 'cdktf';
import { ImagePullSecret } from '../../constructs/index.js';
import { fullSynth, newStack, only, resources, synth, throwsRule, warnings } from './helpers.js';

const AK = 'AKEXAMPLE1234567890';
const SK = 'SKexample0123456789abcdefghijklmnopqrstuv';
const loginKey = (ak: string, sk: string) => createHmac('sha256', sk).update(ak).digest('hex');

function dockerConfig(secret: { data: Record<string, string> }) {
  return JSON.parse(secret.data['.dockerconfigjson']!);
}

describe('ImagePullSecret', () => {
  it('writes a kubernetes.io/dockerconfigjson secret for any registry', () => {
    const stack = newStack();
    const user = new TerraformVariable(stack, 'user', { type: 'string' });
    const password = new TerraformVariable(stack, 'password', { type: 'string', sensitive: true });
    new ImagePullSecret(stack, 'harbor', {
      name: 'harbor-pull',
      namespace: 'shop',
      labels: { team: 'web' },
      registries: [
        {
          server: 'harbor.example.com',
          username: user.stringValue,
          password: password.stringValue,
          email: 'ops@example.com',
        },
      ],
    });
    const secret = only(synth(stack), 'kubernetes_secret_v1');
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(secret.metadata, { name: 'harbor-pull', namespace: 'shop', labels: { team: 'web' } });
    const value: string = secret.data['.dockerconfigjson'];
    // Built by Terraform from the variables, so no secret sits in cdk.tf.json.
    assert.match(value, /^\$\{jsonencode\(\{"auths" = \{"harbor\.example\.com" = \{/);
    assert.match(value, /"password" = var\.password/);
    assert.match(value, /"auth" = base64encode\(join\(":", \[var\.user, var\.password\]\)\)/);
    assert.match(value, /"email" = "ops@example\.com"/);
    assert.deepEqual(warnings(stack), []);
  });

  it('forSwr derives the PROJECT@AK user and the HMAC-SHA256 login key from literal keys, and warns', () => {
    const stack = newStack();
    ImagePullSecret.forSwr(stack, 'swr', { name: 'swr-pull', region: 'cn-north-4', accessKey: AK, secretKey: SK });
    const secret = only(synth(stack), 'kubernetes_secret_v1');
    const auths = dockerConfig(secret).auths;
    const entry = auths['swr.cn-north-4.myhuaweicloud.com'];
    assert.equal(entry.username, `cn-north-4@${AK}`);
    assert.equal(entry.password, loginKey(AK, SK));
    assert.equal(Buffer.from(entry.auth, 'base64').toString(), `cn-north-4@${AK}:${loginKey(AK, SK)}`);
    assert.equal(secret.metadata.namespace, 'default');
    const warned = warnings(stack);
    assert.equal(warned.length, 1);
    assert.match(
      warned[0]!,
      /^swr\.secretKey for "swr\.cn-north-4\.myhuaweicloud\.com" is a literal string: the credential will be stored in cdk\.tf\.json and in the Terraform state/,
    );
  });

  it('records the literal-secret warning in the synthesized manifest', () => {
    const stack = newStack();
    new ImagePullSecret(stack, 'lit', {
      name: 'lit',
      registries: [{ server: 'ghcr.io', username: 'bot', password: 'hunter2' }],
    });
    const { manifest } = fullSynth(stack);
    const warns = manifest.annotations.filter((a: { level: string }) => a.level === '@cdktf/warn');
    assert.equal(warns.length, 1);
    assert.equal(warns[0].constructPath, 'MyStack/lit');
    assert.match(warns[0].message, /registries\[0\]\.password for "ghcr\.io" is a literal string/);
  });

  it("matches Huawei's openssl recipe for the login key", () => {
    const stack = newStack();
    ImagePullSecret.forSwr(stack, 'swr', {
      name: 'swr-pull',
      region: 'cn-north-4',
      accessKey: 'AKEXAMPLE',
      secretKey: 'SKEXAMPLE',
    });
    const entry = dockerConfig(only(synth(stack), 'kubernetes_secret_v1')).auths['swr.cn-north-4.myhuaweicloud.com'];
    // printf AKEXAMPLE | openssl dgst -binary -sha256 -hmac SKEXAMPLE | od -An -vtx1 | …
    assert.equal(entry.password, '0e88cbb99273df9955697b92044912a5883c7ea4463f1cae99013c9478dba7c0');
  });

  it('forSwr with token keys takes a precomputed login key, and no secret reaches cdk.tf.json', () => {
    const stack = newStack();
    const ak = new TerraformVariable(stack, 'ak', { type: 'string' });
    const key = new TerraformVariable(stack, 'login_key', { type: 'string', sensitive: true });
    ImagePullSecret.forSwr(stack, 'swr', {
      name: 'swr-pull',
      region: 'ap-southeast-3',
      projectName: 'ap-southeast-3_dev',
      accessKey: ak.stringValue,
      loginKey: key.stringValue,
    });
    const value: string = only(synth(stack), 'kubernetes_secret_v1').data['.dockerconfigjson'];
    assert.match(
      value,
      /"swr\.ap-southeast-3\.myhuaweicloud\.com" = \{"username" = join\("@", \["ap-southeast-3_dev", var\.ak\]\), "password" = var\.login_key/,
    );
    assert.deepEqual(warnings(stack), []);
  });

  it('forSwr refuses token keys without a login key: Terraform has no HMAC', () => {
    const stack = newStack();
    const sk = new TerraformVariable(stack, 'sk', { type: 'string', sensitive: true });
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'swr', {
          name: 'p',
          region: 'cn-north-4',
          accessKey: AK,
          secretKey: sk.stringValue,
        }),
      {
        path: 'MyStack/swr',
        prop: 'swr.secretKey',
        value: '(unresolved token)',
        rule: 'cannot become the SWR login key at synth: Terraform has no HMAC function. Pass swr.loginKey',
      },
    );
    const ak = new TerraformVariable(stack, 'ak', { type: 'string' });
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'swr2', {
          name: 'p',
          region: 'cn-north-4',
          accessKey: ak.stringValue,
          secretKey: SK,
        }),
      {
        path: 'MyStack/swr2',
        prop: 'swr.accessKey',
        rule: 'Terraform has no HMAC function',
      },
    );
  });

  it('forSwr never echoes secrets in its errors', () => {
    const stack = newStack();
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'a', {
          name: 'p',
          region: 'cn-north-4',
          accessKey: AK,
          secretKey: SK,
          loginKey: 'x'.repeat(64),
        }),
      {
        path: 'MyStack/a',
        prop: 'swr.loginKey',
        value: '(secret, not shown)',
        rule: 'must not be set together with swr.secretKey',
      },
    );
    throwsRule(
      () => ImagePullSecret.forSwr(stack, 'b', { name: 'p', region: 'cn-north-4', accessKey: AK, loginKey: 'NOT-HEX' }),
      {
        path: 'MyStack/b',
        prop: 'swr.loginKey',
        value: '(secret, not shown)',
        rule: 'must be 64 lowercase hex characters',
      },
    );
    throwsRule(() => ImagePullSecret.forSwr(stack, 'c', { name: 'p', region: 'cn-north-4', accessKey: AK }), {
      path: 'MyStack/c',
      prop: 'swr.secretKey',
      value: '(unset)',
      rule: 'is required (or swr.loginKey)',
    });
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'd', {
          name: 'p',
          region: 'cn-north-4',
          accessKey: 'AK WITH SPACE',
          secretKey: SK,
        }),
      {
        path: 'MyStack/d',
        prop: 'swr.accessKey',
        value: '(secret, not shown)',
        rule: 'must be letters and digits only',
      },
    );
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'e', {
          name: 'p',
          region: 'cn-north-4',
          projectName: 'a@b',
          accessKey: AK,
          secretKey: SK,
        }),
      {
        path: 'MyStack/e',
        prop: 'swr.projectName',
        value: '"a@b"',
        rule: "must be non-empty and contain no '@'",
      },
    );
  });

  it('combines SWR and third-party registries in one secret, like imagepull-secret-generator', () => {
    const stack = newStack();
    const pw = new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true });
    ImagePullSecret.forSwr(stack, 'both', {
      name: 'both',
      region: 'eu-west-101',
      accessKey: AK,
      secretKey: SK,
      registries: [{ server: 'registry.example.com:5000', username: 'u', password: pw.stringValue }],
    });
    const value: string = only(synth(stack), 'kubernetes_secret_v1').data['.dockerconfigjson'];
    assert.match(value, /"swr\.eu-west-101\.myhuaweicloud\.eu" = \{"username" = "eu-west-101@AKEXAMPLE1234567890"/);
    assert.match(value, /"registry\.example\.com:5000" = \{"username" = "u", "password" = var\.pw/);
  });

  it('can keep the payload out of the state with data_wo', () => {
    const stack = newStack();
    ImagePullSecret.forSwr(stack, 'wo', {
      name: 'wo',
      region: 'cn-north-4',
      accessKey: AK,
      secretKey: SK,
      writeOnly: true,
      writeOnlyRevision: 3,
    });
    const secret = only(synth(stack), 'kubernetes_secret_v1');
    assert.equal(secret.data, undefined);
    assert.equal(secret.data_wo_revision, 3);
    assert.ok(JSON.parse(secret.data_wo['.dockerconfigjson']).auths['swr.cn-north-4.myhuaweicloud.com']);
    assert.match(warnings(stack)[0]!, /will be stored in cdk\.tf\.json\. Pass/);
  });

  const badNames: [string, string][] = [
    ['Swr-Pull', 'uppercase'],
    ['-pull', 'leading hyphen'],
    ['pull_secret', 'underscore'],
    ['a'.repeat(254), 'too long'],
  ];
  for (const [name, why] of badNames) {
    it(`rejects secret name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)} (${why})`, () => {
      const stack = newStack();
      throwsRule(
        () =>
          new ImagePullSecret(stack, 's', {
            name,
            registries: [{ server: 'r.example', username: 'u', password: 'p' }],
          }),
        {
          path: 'MyStack/s',
          prop: 'name',
          value: JSON.stringify(name),
          rule: 'must be at most 253 lowercase letters, digits',
        },
      );
    });
  }

  it('accepts dotted names up to 253 characters', () => {
    const stack = newStack();
    new ImagePullSecret(stack, 's', {
      name: `a.${'b'.repeat(251)}`,
      registries: [{ server: 'r.example', username: 'u', password: 'p' }],
    });
  });

  it('rejects a namespace that is not a DNS label', () => {
    const stack = newStack();
    throwsRule(
      () =>
        new ImagePullSecret(stack, 's', {
          name: 'ok',
          namespace: 'my.ns',
          registries: [{ server: 'r.example', username: 'u', password: 'p' }],
        }),
      {
        path: 'MyStack/s',
        prop: 'namespace',
        value: '"my.ns"',
        rule: 'Kubernetes DNS label',
      },
    );
  });

  it('rejects bad registry entries', () => {
    const stack = newStack();
    throwsRule(() => new ImagePullSecret(stack, 'a', { name: 'a', registries: [] }), {
      path: 'MyStack/a',
      prop: 'registries',
      value: '[]',
      rule: 'must hold at least one registry',
    });
    throwsRule(
      () =>
        new ImagePullSecret(stack, 'b', {
          name: 'b',
          registries: [{ server: 'https://r.example/v2', username: 'u', password: 'p' }],
        }),
      {
        path: 'MyStack/b',
        prop: 'registries[0].server',
        value: '"https://r.example/v2"',
        rule: 'must be a registry host[:port] without scheme or path',
      },
    );
    throwsRule(
      () =>
        new ImagePullSecret(stack, 'c', {
          name: 'c',
          registries: [{ server: 'r.example', username: 'u', password: '' }],
        }),
      {
        path: 'MyStack/c',
        prop: 'registries[0].password',
        value: '(secret, not shown)',
        rule: 'must be non-empty',
      },
    );
    throwsRule(
      () =>
        new ImagePullSecret(stack, 'd', {
          name: 'd',
          registries: [
            { server: 'r.example', username: 'u', password: 'p' },
            { server: 'r.example', username: 'v', password: 'q' },
          ],
        }),
      { path: 'MyStack/d', prop: 'registries', value: '"r.example"', rule: 'must name each registry server once' },
    );
    assert.equal(resources(synth(stack), 'kubernetes_secret_v1').length, 0);
  });

  it('takes the SWR login from huaweicloud_swr_temporary_login_command at apply time instead of a login key', () => {
    const stack = newStack();
    const secret = ImagePullSecret.forSwr(stack, 'tmp', {
      name: 'swr-tmp',
      region: 'cn-north-4',
      temporaryLogin: true,
      writeOnly: true,
    });
    const json = synth(stack);
    const login = only(json, 'huaweicloud_swr_temporary_login_command');
    assert.deepEqual(login, { region: 'cn-north-4' });
    assert.ok(secret.temporaryLogin);
    const value: string = only(json, 'kubernetes_secret_v1').data_wo['.dockerconfigjson'];
    // Split from base64(user:password) by Terraform; no credential in cdk.tf.json.
    assert.ok(
      value.includes(
        '"swr.cn-north-4.myhuaweicloud.com" = {"username" = element(regex("^([^:]*):(.*)$", base64decode(element(huaweicloud_swr_temporary_login_command.',
      ),
      value,
    );
    assert.ok(value.includes('.auths, 0).auth)), 1)'), value);
    // cdktf prints a warning as `[MyStack/tmp] message`: the message does not repeat the path.
    assert.match(warnings(stack).join('\n'), /^swr\.temporaryLogin expires/m);
  });

  it('refuses keys next to temporaryLogin', () => {
    const stack = newStack();
    throwsRule(
      () =>
        ImagePullSecret.forSwr(stack, 'tmp', {
          name: 'swr-tmp',
          region: 'cn-north-4',
          temporaryLogin: true,
          loginKey: 'a'.repeat(64),
        }),
      {
        path: 'MyStack/tmp',
        prop: 'swr.loginKey',
        value: '(secret, not shown)',
        rule: 'must not be set with swr.temporaryLogin',
      },
    );
    throwsRule(() => ImagePullSecret.forSwr(stack, 'none', { name: 'swr-none', region: 'cn-north-4' }), {
      path: 'MyStack/none',
      prop: 'swr.accessKey',
      rule: 'is required (or swr.temporaryLogin)',
    });
  });
});
