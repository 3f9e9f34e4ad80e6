import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  ImageBuilder,
  listTags,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli } from './support.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  type: string;
  metadata: { name: string; namespace?: string };
  data: Record<string, string>;
}
type Auths = Record<string, { username: string; password: string; auth: string }>;

function auths(manifest: Manifest): Auths {
  return (JSON.parse(Buffer.from(manifest.data['.dockerconfigjson']!, 'base64').toString('utf8')) as { auths: Auths })
    .auths;
}

function alnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/** `openssl dgst -sha256 -hmac SK` over AK (docs/swr.md), run for real with the keys in its environment. */
function opensslLoginKey(ak: string, sk: string): string {
  const out = spawnSync('sh', ['-c', 'printf "%s" "$AK" | openssl dgst -sha256 -hmac "$SK"'], {
    env: { PATH: process.env.PATH, AK: ak, SK: sk },
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  return /([0-9a-f]{64})\s*$/.exec(out.stdout)![1]!;
}

const SWR = 'swr.cn-north-4.myhuaweicloud.com';

describe('swr-sync pull-secret', () => {
  const ak = alnum(20);
  const sk = alnum(40);
  // Canaries: any of these in stderr, stdout of a failed run or an error message is a leak.
  const password = `canary-${randomBytes(12).toString('base64url')}`;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-pull-secret-'));
    await writeFile(join(dir, 'password.txt'), `${password}\n`);
    await writeFile(join(dir, 'sk.txt'), `${sk}\n`);
    await writeFile(join(dir, 'empty.txt'), '\n');
  });

  test('to a file: mode 0600, JSON, SWR from the default env variables + third party from a file', async () => {
    const out = join(dir, 'my-imagepull-secret.json');
    const run = await runCli(
      [
        'pull-secret',
        '--secret-name',
        'my-imagepull-secret',
        '--swr-address',
        SWR,
        '--project-name',
        'cn-north-4',
        '--registry',
        'harbor.example.com',
        '--private-user',
        'robot',
        '--private-password-file',
        join(dir, 'password.txt'),
        '--output-file-path',
        out,
      ],
      { env: { HW_ACCESS_KEY: ak, HW_SECRET_KEY: sk } },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '', 'the manifest goes to the file only');
    assert.match(
      run.stderr,
      /wrote Secret "my-imagepull-secret" \(swr\.cn-north-4\.myhuaweicloud\.com, harbor\.example\.com\) to .*\(mode 0600\).*kubectl apply -f/,
    );
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const manifest = JSON.parse(await readFile(out, 'utf8')) as Manifest;
    assert.deepEqual(
      { apiVersion: manifest.apiVersion, kind: manifest.kind, type: manifest.type, metadata: manifest.metadata },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: { name: 'my-imagepull-secret' },
      },
    );
    const key = opensslLoginKey(ak, sk);
    assert.deepEqual(auths(manifest), {
      [SWR]: {
        username: `cn-north-4@${ak}`,
        password: key,
        auth: Buffer.from(`cn-north-4@${ak}:${key}`).toString('base64'),
      },
      'harbor.example.com': { username: 'robot', password, auth: Buffer.from(`robot:${password}`).toString('base64') },
    });
    for (const secret of [sk, password, key]) assert.ok(!run.stderr.includes(secret), 'no secret on stderr');
  });

  test('an existing file is replaced atomically and ends up 0600; no temporary file is left', async () => {
    const sub = await mkdtemp(join(dir, 'replace-'));
    const out = join(sub, 'secret.yaml');
    await writeFile(out, 'old content\n');
    await chmod(out, 0o644);
    const run = await runCli(
      [
        'pull-secret',
        '--secret-name',
        'p',
        '--registry',
        'r.example',
        '--private-user',
        'u',
        '--private-password-env',
        'PW',
        '--output-file-path',
        out,
      ],
      { env: { PW: password } },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const manifest = parseYaml(await readFile(out, 'utf8')) as Manifest; // .yaml extension → YAML
    assert.equal(auths(manifest)['r.example']!.password, password);
    assert.deepEqual(await readdir(sub), ['secret.yaml']);
  });

  test('to stdout, YAML: SK on stdin, AK and password from named variables, namespace set', async () => {
    const run = await runCli(
      [
        'pull-secret',
        '--secret-name',
        'burst-pull',
        '--namespace',
        'shop',
        '--swr-address',
        SWR,
        '--ak-env',
        'MY_AK',
        '--sk-stdin',
        '--registry',
        '127.0.0.1:5000',
        '--private-user',
        'robot',
        '--private-password-env',
        'HARBOR_PW',
        '--format',
        'yaml',
      ],
      { env: { MY_AK: ak, HARBOR_PW: password, HW_REGION_NAME: 'cn-north-4' }, input: `${sk}\n` },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const manifest = parseYaml(run.stdout) as Manifest;
    assert.deepEqual(manifest.metadata, { name: 'burst-pull', namespace: 'shop' });
    const a = auths(manifest);
    assert.equal(a[SWR]!.username, `cn-north-4@${ak}`, 'project from $HW_REGION_NAME');
    assert.equal(a[SWR]!.password, opensslLoginKey(ak, sk));
    assert.equal(a['127.0.0.1:5000']!.password, password);
  });

  test('password on stdin, SK from a file, --ak given directly', async () => {
    const run = await runCli(
      [
        'pull-secret',
        '--secret-name',
        'p',
        '--swr-address',
        SWR,
        '--project-name',
        'ap-southeast-3',
        '--ak',
        ak,
        '--sk-file',
        join(dir, 'sk.txt'),
        '--registry',
        'ghcr.io',
        '--private-user',
        'bot',
        '--private-password-stdin',
      ],
      { input: `${password}\n` },
    );
    assert.equal(run.code, 0, run.stderr);
    const a = auths(JSON.parse(run.stdout) as Manifest);
    assert.deepEqual(a[SWR], {
      username: `ap-southeast-3@${ak}`,
      password: opensslLoginKey(ak, sk),
      auth: Buffer.from(`ap-southeast-3@${ak}:${opensslLoginKey(ak, sk)}`).toString('base64'),
    });
    assert.equal(a['ghcr.io']!.password, password);
  });

  const swrArgs = ['--swr-address', SWR, '--project-name', 'cn-north-4'];
  const privateArgs = ['--registry', 'harbor.example.com', '--private-user', 'robot'];
  const keys = { HW_ACCESS_KEY: 'AKCANARY0123456789', HW_SECRET_KEY: sk, PW: password };
  const cases: Array<{
    name: string;
    args: () => string[];
    expect: RegExp;
    env?: Record<string, string>;
    input?: string;
  }> = [
    {
      name: 'no --secret-name',
      args: () => [...privateArgs, '--private-password-env', 'PW'],
      expect: /required option '--secret-name <name>' not specified/,
    },
    {
      name: 'secret name not a DNS subdomain',
      args: () => ['--secret-name', 'My_Secret', ...privateArgs, '--private-password-env', 'PW'],
      expect: /--secret-name "My_Secret" must be at most 253 lowercase .*\(Kubernetes DNS subdomain, RFC 1123\)/,
    },
    {
      name: 'secret name with an empty dot part',
      args: () => ['--secret-name', 'a..b', ...privateArgs, '--private-password-env', 'PW'],
      expect: /--secret-name "a\.\.b" must be .*DNS subdomain/,
    },
    {
      name: 'namespace not a DNS label',
      args: () => ['--secret-name', 'p', '--namespace', 'my.ns', ...privateArgs, '--private-password-env', 'PW'],
      expect: /--namespace "my\.ns" must be at most 63 .*\(Kubernetes DNS label, RFC 1123\)/,
    },
    {
      name: 'SWR address with scheme',
      args: () => ['--secret-name', 'p', '--swr-address', `https://${SWR}`, '--project-name', 'cn-north-4'],
      expect:
        /--swr-address "https:\/\/swr\.cn-north-4\.myhuaweicloud\.com" must be a registry host\[:port\] without scheme or path/,
    },
    {
      name: 'registry with a path',
      args: () => [
        '--secret-name',
        'p',
        '--registry',
        'harbor.example.com/library',
        '--private-user',
        'u',
        '--private-password-env',
        'PW',
      ],
      expect: /--registry "harbor\.example\.com\/library" must be a registry host\[:port\]/,
    },
    {
      name: 'registry port out of range',
      args: () => [
        '--secret-name',
        'p',
        '--registry',
        'r.example:70000',
        '--private-user',
        'u',
        '--private-password-env',
        'PW',
      ],
      expect: /--registry "r\.example:70000" must be a registry host/,
    },
    {
      name: 'project name with @',
      args: () => ['--secret-name', 'p', '--swr-address', SWR, '--project-name', 'cn@north'],
      expect: /--project-name "cn@north" must be a regional project name .*no '@'/,
    },
    {
      name: 'SWR without a project name',
      args: () => ['--secret-name', 'p', '--swr-address', SWR],
      expect: /--swr-address needs --project-name \(or \$HW_PROJECT_NAME \/ \$HW_REGION_NAME\)/,
    },
    {
      name: 'project name without SWR address',
      args: () => [
        '--secret-name',
        'p',
        '--project-name',
        'cn-north-4',
        ...privateArgs,
        '--private-password-env',
        'PW',
      ],
      expect: /--project-name needs --swr-address/,
    },
    {
      name: 'SK source without SWR address',
      args: () => ['--secret-name', 'p', '--sk-stdin', ...privateArgs, '--private-password-env', 'PW'],
      expect: /--sk-stdin needs --swr-address/,
    },
    {
      name: 'nothing to put in the secret',
      args: () => ['--secret-name', 'p'],
      expect: /nothing to put in the secret: give --swr-address .* and\/or --registry with --private-user/,
    },
    {
      name: 'registry without user',
      args: () => ['--secret-name', 'p', '--registry', 'r.example', '--private-password-env', 'PW'],
      expect: /--registry needs --private-user/,
    },
    {
      name: 'user without registry',
      args: () => ['--secret-name', 'p', '--private-user', 'u', '--private-password-env', 'PW'],
      expect: /--private-user needs --registry/,
    },
    {
      name: 'password source without registry',
      args: () => ['--secret-name', 'p', ...swrArgs, '--private-password-env', 'PW'],
      expect: /--private-password-env needs --registry and --private-user/,
    },
    {
      name: 'registry without a password source',
      args: () => ['--secret-name', 'p', ...privateArgs],
      expect:
        /--registry needs a password: give --private-password-env VAR, --private-password-file FILE or --private-password-stdin/,
    },
    {
      name: 'two password sources',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-env', 'PW', '--private-password-stdin'],
      expect: /--private-password-env, --private-password-stdin are alternatives/,
    },
    {
      name: 'two SK sources',
      args: () => ['--secret-name', 'p', ...swrArgs, '--sk-env', 'X', '--sk-file', join(dir, 'sk.txt')],
      expect: /--sk-env, --sk-file are alternatives/,
    },
    {
      name: 'both secrets on stdin',
      args: () => ['--secret-name', 'p', ...swrArgs, '--sk-stdin', ...privateArgs, '--private-password-stdin'],
      expect: /--sk-stdin and --private-password-stdin cannot share standard input/,
      input: `${sk}\n${password}\n`,
    },
    {
      name: 'user name with a colon',
      args: () => [
        '--secret-name',
        'p',
        '--registry',
        'r.example',
        '--private-user',
        'a:b',
        '--private-password-env',
        'PW',
      ],
      expect: /--private-user must be non-empty without ':'/,
    },
    {
      name: 'same host twice',
      args: () => [
        '--secret-name',
        'p',
        ...swrArgs,
        '--registry',
        SWR,
        '--private-user',
        'u',
        '--private-password-env',
        'PW',
      ],
      expect: /--registry and --swr-address both name swr\.cn-north-4\.myhuaweicloud\.com/,
    },
    {
      name: '--sk on argv is refused',
      args: () => ['--secret-name', 'p', ...swrArgs, '--sk', sk],
      expect: /--sk is refused: secrets are never taken on the command line/,
    },
    {
      name: '--private-password on argv is refused',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password', password],
      expect: /--private-password is refused: .* use --private-password-env VAR/,
    },
    {
      name: 'SK variable unset',
      args: () => ['--secret-name', 'p', ...swrArgs],
      env: { HW_ACCESS_KEY: 'AKCANARY0123456789', PW: password },
      expect: /--sk-env: environment variable HW_SECRET_KEY is not set/,
    },
    {
      name: 'password variable unset',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-env', 'NOPE'],
      expect: /--private-password-env: environment variable NOPE is not set/,
    },
    {
      name: 'AK not letters and digits',
      args: () => ['--secret-name', 'p', ...swrArgs],
      env: { ...keys, HW_ACCESS_KEY: `${sk}-x` },
      expect: /--ak-env HW_ACCESS_KEY: the access key must be letters and digits only/,
    },
    {
      name: 'SK with a space on stdin',
      args: () => ['--secret-name', 'p', ...swrArgs, '--sk-stdin'],
      input: `${sk} ${password}\n`,
      expect: /secret key contains whitespace or control characters/,
    },
    {
      name: 'empty stdin',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-stdin'],
      input: '',
      expect: /--private-password-stdin: standard input was empty/,
    },
    {
      name: 'empty password file',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-file', join(dir, 'empty.txt')],
      expect: /--private-password-file .*empty\.txt: the file is empty/,
    },
    {
      name: 'missing password file',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-file', join(dir, 'nope.txt')],
      expect: /--private-password-file .*nope\.txt: cannot read the file \(ENOENT\)/,
    },
    {
      name: 'unknown format',
      args: () => ['--secret-name', 'p', ...privateArgs, '--private-password-env', 'PW', '--format', 'xml'],
      expect: /option '--format <format>' argument 'xml' is invalid\. Allowed choices are json, yaml/,
    },
    {
      name: 'unwritable output path',
      args: () => [
        '--secret-name',
        'p',
        ...privateArgs,
        '--private-password-env',
        'PW',
        '--output-file-path',
        join(dir, 'no-such-dir', 's.json'),
      ],
      expect: /--output-file-path .*s\.json: cannot write the file \(ENOENT\)/,
    },
  ];

  for (const c of cases) {
    test(`bad input: ${c.name} → exit 2, names the flag and rule, no secret`, async () => {
      const run = await runCli(['pull-secret', ...c.args()], {
        env: c.env ?? keys,
        ...(c.input !== undefined ? { input: c.input } : {}),
      });
      assert.equal(run.code, 2, `exit 2; stderr: ${run.stderr}`);
      assert.match(run.stderr, c.expect);
      assert.equal(run.stdout, '');
      assert.doesNotMatch(run.stderr, /\n\s+at .*:\d+:\d+\)?/, 'no stack trace');
      for (const secret of [sk, password, opensslLoginKey('AKCANARY0123456789', sk)])
        assert.ok(!run.stderr.includes(secret), `stderr leaks a secret: ${run.stderr}`);
    });
  }
});

/**
 * The generated Secret really authenticates: its `.dockerconfigjson`, decoded, is the docker config `swr-sync copy`
 * uses to pull from an htpasswd registry (the third-party entry) and push to a registry whose only user is
 * `cn-north-4@AK` with the login key as password (the SWR entry, as SWR checks it).
 */
describe('swr-sync pull-secret end to end: the Secret authenticates a real copy', () => {
  const ak = alnum(20);
  const sk = alnum(40);
  let privateRegistry: RunningRegistry;
  let swrLike: RunningRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let dir: string;

  before(async () => {
    [privateRegistry, swrLike, builder] = await Promise.all([
      startRegistry({ auth: 'basic', username: 'robot' }),
      startRegistry({ auth: 'basic', username: `cn-north-4@${ak}`, password: opensslLoginKey(ak, sk) }),
      ImageBuilder.temporary(),
    ]);
    image = await builder.image({ format: 'oci', layers: 2, layerSize: 64 * 1024 });
    await pushImage(privateRegistry, 'team/app', 'v1', image, builder);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-pull-secret-e2e-'));
  });
  after(async () => {
    await Promise.all([privateRegistry?.stop(), swrLike?.stop(), builder?.dispose()]);
  });

  /** Generates the Secret with `secretKey` and writes its decoded `.dockerconfigjson` as `<name>/config.json`. */
  async function secretAsDockerConfig(name: string, secretKey: string): Promise<string> {
    const file = join(dir, `${name}.json`);
    const run = await runCli(
      [
        'pull-secret',
        '--secret-name',
        name,
        '--swr-address',
        swrLike.host,
        '--project-name',
        'cn-north-4',
        '--sk-env',
        'SK',
        '--registry',
        privateRegistry.host,
        '--private-user',
        privateRegistry.username!,
        '--private-password-stdin',
        '--output-file-path',
        file,
      ],
      { env: { HW_ACCESS_KEY: ak, SK: secretKey }, input: `${privateRegistry.password}\n` },
    );
    assert.equal(run.code, 0, run.stderr);
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    const configDir = join(dir, name);
    await mkdir(configDir);
    await writeFile(join(configDir, 'config.json'), Buffer.from(manifest.data['.dockerconfigjson']!, 'base64'));
    return configDir;
  }

  test('as --src-authfile / --dest-authfile and as DOCKER_CONFIG: both entries log in, the image arrives intact', async () => {
    const configDir = await secretAsDockerConfig('good', sk);
    const config = join(configDir, 'config.json');
    const viaAuthfiles = await runCli([
      'copy',
      `${privateRegistry.host}/team/app:v1`,
      `${swrLike.host}/org/app:v1`,
      '--src-authfile',
      config,
      '--dest-authfile',
      config,
      '--insecure',
      '--json',
    ]);
    assert.equal(viaAuthfiles.code, 0, viaAuthfiles.stdout + viaAuthfiles.stderr);
    assert.equal(parseJsonOutput<ImageResult>(viaAuthfiles).digest, image.digest);
    const check = await verifyImageComplete(swrLike, 'org/app', 'v1');
    assert.equal(check.digest, image.digest);
    assert.deepEqual(check.missing, []);

    const viaDockerConfig = await runCli(
      [
        'copy',
        `${privateRegistry.host}/team/app:v1`,
        `${swrLike.host}/org/app:v1-docker-config`,
        '--insecure',
        '--json',
      ],
      { env: { DOCKER_CONFIG: configDir } },
    );
    assert.equal(viaDockerConfig.code, 0, viaDockerConfig.stdout + viaDockerConfig.stderr);
    assert.equal((await verifyImageComplete(swrLike, 'org/app', 'v1-docker-config')).digest, image.digest);

    const everything = viaAuthfiles.stdout + viaAuthfiles.stderr + viaDockerConfig.stdout + viaDockerConfig.stderr;
    for (const secret of [sk, privateRegistry.password!, opensslLoginKey(ak, sk)])
      assert.ok(!everything.includes(secret), 'no secret in copy output');
  });

  test('a Secret made from the wrong SK is refused by the SWR side (the check can fail)', async () => {
    const configDir = await secretAsDockerConfig('wrong-sk', `${sk.slice(0, -1)}${sk.endsWith('A') ? 'B' : 'A'}`);
    const config = join(configDir, 'config.json');
    const run = await runCli([
      'copy',
      `${privateRegistry.host}/team/app:v1`,
      `${swrLike.host}/org/app:wrong`,
      '--src-authfile',
      config,
      '--dest-authfile',
      config,
      '--insecure',
      '--json',
    ]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout + run.stderr, /401|unauthori[sz]ed|UNAUTHORIZED/i);
    assert.ok(!(await listTags(swrLike, 'org/app')).includes('wrong'), 'nothing was tagged');
  });
});
