import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { Testing, TerraformVariable } from 'cdktf';
import {
  HuaweicloudProvider,
  MirroredImage,
  MirrorSet,
  SwrOrganization,
  SwrRepository,
} from '../../constructs/index.js';
import type { MirroredImageProps } from '../../constructs/index.js';
import { loadImagesFileWithLimits } from '../../src/config/images-file.js';
import { parseMirrorSpec } from '../../src/config/mirror-spec.js';
import { fullSynth, newStack, resources, synth, throwsRule, warnings } from './helpers.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

function lockFile(images: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'swr-lock-'));
  const path = join(dir, 'swr-mirror.lock.json');
  writeFileSync(path, `${JSON.stringify({ version: 1, images }, null, 2)}\n`);
  return path;
}

const NO_LOCK = join(tmpdir(), 'no-such-dir-swr', 'swr-mirror.lock.json');

describe('MirroredImage and swr-mirror.json', () => {
  it('writes swr-mirror.json beside cdk.tf.json in the documented format', () => {
    const stack = newStack('Mirrors');
    const org = new SwrOrganization(stack, 'org', { name: 'acme', region: 'cn-north-4' });
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK, defaultDestination: org });
    new MirroredImage(stack, 'nginx', {
      source: 'nginx',
      tags: ['1.27', '1.26'],
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    new MirroredImage(stack, 'redis', { source: 'redis:7.4' });
    new MirroredImage(stack, 'all', {
      source: 'quay.io/prometheus/node-exporter',
      destination: '127.0.0.1:5001/mirror' + '/node-exporter',
    });
    const repo = new SwrRepository(stack, 'repo', { organization: org, name: 'tools/busybox' });
    new MirroredImage(stack, 'busybox', { source: 'docker.io/library/busybox', tags: ['1.36'], destination: repo });
    new MirroredImage(stack, 'renamed', {
      source: 'ghcr.io/acme/api',
      tags: ['2.3'],
      destination: org,
      repositoryName: 'platform-api',
    });

    const { dir } = fullSynth(stack);
    const text = readFileSync(join(dir, 'swr-mirror.json'), 'utf8');
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.includes('\n  "version": 1,'), 'two-space indent');
    assert.deepEqual(JSON.parse(text), {
      version: 1,
      stack: 'Mirrors',
      images: [
        {
          id: 'nginx',
          source: 'docker.io/library/nginx',
          destination: 'swr.cn-north-4.myhuaweicloud.com/acme/nginx',
          tags: ['1.27', '1.26'],
          platforms: ['linux/amd64', 'linux/arm64'],
        },
        {
          id: 'redis',
          source: 'docker.io/library/redis',
          destination: 'swr.cn-north-4.myhuaweicloud.com/acme/redis',
          tags: ['7.4'],
        },
        { id: 'all', source: 'quay.io/prometheus/node-exporter', destination: '127.0.0.1:5001/mirror/node-exporter' },
        {
          id: 'busybox',
          source: 'docker.io/library/busybox',
          destination: 'swr.cn-north-4.myhuaweicloud.com/acme/tools/busybox',
          tags: ['1.36'],
        },
        {
          id: 'renamed',
          source: 'ghcr.io/acme/api',
          destination: 'swr.cn-north-4.myhuaweicloud.com/acme/platform-api',
          tags: ['2.3'],
        },
      ],
    });
    assert.equal(Object.keys(JSON.parse(text)).join(','), 'version,stack,images');
  });

  it('writes one spec per stack, and the default set appears on first use', () => {
    const app = Testing.app();
    const a = newStack('A', { app });
    const b = newStack('B', { app });
    new MirroredImage(a, 'x', { source: 'nginx', tags: ['1'], destination: 'r.example/ns/nginx' });
    new MirroredImage(b, 'y', { source: 'redis', tags: ['7'], destination: 'r.example/ns/redis' });
    const specA = JSON.parse(readFileSync(join(fullSynth(a).dir, 'swr-mirror.json'), 'utf8'));
    const specB = JSON.parse(readFileSync(join(fullSynth(b).dir, 'swr-mirror.json'), 'utf8'));
    assert.deepEqual(
      specA.images.map((i: { id: string }) => i.id),
      ['x'],
    );
    assert.equal(specB.stack, 'B');
    assert.deepEqual(
      specB.images.map((i: { id: string }) => i.id),
      ['y'],
    );
  });

  it('gives tag references and pins by digest from the lock file', () => {
    const stack = newStack();
    const lock = lockFile({
      'swr.cn-north-4.myhuaweicloud.com/acme/nginx:1.27': {
        source: 'docker.io/library/nginx:1.27',
        sourceDigest: D1,
        digest: D2,
        platforms: ['linux/amd64', 'linux/arm64'],
      },
    });
    new MirrorSet(stack, 'Mirror', { lockFile: lock });
    const org = new SwrOrganization(stack, 'org', { name: 'acme', region: 'cn-north-4' });
    const nginx = new MirroredImage(stack, 'nginx', { source: 'nginx', tags: ['1.27', '1.26'], destination: org });
    assert.equal(nginx.reference, 'swr.cn-north-4.myhuaweicloud.com/acme/nginx:1.27');
    assert.equal(nginx.pinnedReference, `swr.cn-north-4.myhuaweicloud.com/acme/nginx@${D2}`);
    assert.equal(nginx.sourceReferenceFor('1.27'), `docker.io/library/nginx@${D1}`);
    assert.deepEqual(warnings(stack), []);
    // 1.26 is not in the lock: the tag form, and a warning naming the lock file and the reference.
    assert.equal(nginx.pinnedReferenceFor('1.26'), 'swr.cn-north-4.myhuaweicloud.com/acme/nginx:1.26');
    nginx.pinnedReferenceFor('1.26');
    const warned = warnings(stack);
    assert.equal(warned.length, 1, 'warned once per tag');
    assert.ok(warned[0]!.startsWith(`${lock} has no entry for "swr.cn-north-4.myhuaweicloud.com/acme/nginx:1.26"`));
  });

  it('reads the default lock file name from the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swr-cwd-'));
    writeFileSync(
      join(dir, 'swr-mirror.lock.json'),
      JSON.stringify({
        version: 1,
        images: { 'r.example/ns/app:1': { source: 's', sourceDigest: D1, digest: D3, platforms: [] } },
      }),
    );
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const stack = newStack();
      const img = new MirroredImage(stack, 'app', {
        source: 'src.example/app',
        tags: ['1'],
        destination: 'r.example/ns/app',
      });
      assert.equal(img.pinnedReference, `r.example/ns/app@${D3}`);
    } finally {
      process.chdir(cwd);
    }
  });

  it('rejects a lock file that is not a swr-mirror lock', () => {
    const stack = newStack();
    const bad = lockFile({ 'r.example/a:1': { source: 's', sourceDigest: 'md5:x', digest: D1, platforms: [] } });
    throwsRule(() => new MirrorSet(stack, 'Mirror', { lockFile: bad }), {
      path: 'MyStack/Mirror',
      prop: 'lockFile',
      value: JSON.stringify(bad),
      rule: /key "images\.r\.example\/a:1\.sourceDigest": not a swr-mirror lock file: a digest such as sha256:<hex>/,
    });
  });

  it('rejects a second MirrorSet in a stack', () => {
    const stack = newStack();
    new MirroredImage(stack, 'a', { source: 'nginx', tags: ['1'], destination: 'r.example/ns/nginx' });
    throwsRule(() => new MirrorSet(stack, 'Late'), {
      path: 'MyStack/Late',
      prop: 'MirrorSet',
      value: '"Late"',
      rule: 'must be unique per stack',
    });
  });

  it('adds copy-on-deploy terraform_data with the source digest or tag as trigger and swr-sync copy', () => {
    const stack = newStack();
    const lock = lockFile({
      'r.example/ns/nginx:1.27': {
        source: 'docker.io/library/nginx:1.27',
        sourceDigest: D1,
        digest: D1,
        platforms: [],
      },
    });
    new MirrorSet(stack, 'Mirror', { lockFile: lock });
    new MirroredImage(stack, 'nginx', {
      source: 'nginx',
      tags: ['1.27', '1.26'],
      destination: 'r.example/ns/nginx',
      platforms: ['linux/amd64'],
      copyOnDeploy: {
        command: 'npx swr-sync',
        authFile: '/etc/swr sync/auth.json',
        insecure: true,
        environment: { SWR_SYNC_LOG: 'info' },
      },
    });
    const data = resources(synth(stack), 'terraform_data');
    const pinned = data.find((d) => d.triggers_replace.destination.endsWith(':1.27'));
    const tagged = data.find((d) => d.triggers_replace.destination.endsWith(':1.26'));
    assert.deepEqual(pinned.triggers_replace, {
      source: `docker.io/library/nginx@${D1}`,
      destination: 'r.example/ns/nginx:1.27',
      platforms: 'linux/amd64',
    });
    assert.deepEqual(pinned.provisioner, [
      {
        'local-exec': {
          command: `npx swr-sync copy docker.io/library/nginx@${D1} r.example/ns/nginx:1.27 --platform linux/amd64 --auth '/etc/swr sync/auth.json' --insecure`,
          environment: { SWR_SYNC_LOG: 'info' },
        },
      },
    ]);
    assert.equal(tagged.triggers_replace.source, 'docker.io/library/nginx:1.26');
    assert.match(
      tagged.provisioner[0]['local-exec'].command,
      /^npx swr-sync copy docker\.io\/library\/nginx:1\.26 r\.example\/ns\/nginx:1\.26 /,
    );
    // Credentials come from the auth file or the environment of terraform apply: nothing secret in the config.
    assert.doesNotMatch(JSON.stringify(resources(synth(stack), 'terraform_data')), /password|secret/i);
  });

  it('withReferrers: the spec entry asks swr-sync for signatures and SBOMs, and so does the copy on deploy', () => {
    const stack = newStack('Signed');
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    new MirroredImage(stack, 'api', {
      source: 'ghcr.io/acme/api',
      tags: ['2.3'],
      destination: 'r.example/ns/api',
      withReferrers: true,
      copyOnDeploy: true,
    });
    new MirroredImage(stack, 'plain', { source: 'ghcr.io/acme/web', tags: ['1'], destination: 'r.example/ns/web' });
    const { dir } = fullSynth(stack);
    const file = join(dir, 'swr-mirror.json');
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { images: Array<{ id: string; referrers?: boolean }> };
    assert.deepEqual(
      spec.images.map((i) => [i.id, i.referrers]),
      [
        ['api', true],
        ['plain', undefined],
      ],
    );
    // swr-sync reads the file the constructs wrote: the rule asks for referrers.
    const rules = parseMirrorSpec(spec, file, { env: {} });
    assert.deepEqual(
      rules.map((r) => r.referrers ?? false),
      [true, false],
    );
    const [copy] = resources(synth(stack), 'terraform_data');
    assert.match(copy.provisioner[0]['local-exec'].command, / --with-referrers$/);
    assert.equal(copy.triggers_replace.referrers, 'true');
    const other = newStack();
    new MirrorSet(other, 'Mirror', { lockFile: NO_LOCK });
    throwsRule(
      () =>
        new MirroredImage(other, 'bad', {
          source: 'nginx',
          tags: ['1'],
          destination: 'r.example/ns/nginx',
          withReferrers: 'yes' as unknown as boolean,
        }),
      { path: 'MyStack/bad', prop: 'withReferrers', value: '"yes"', rule: 'must be true or false' },
    );
  });

  it('registryLimits: the spec gets "registries", which swr-sync reads as per-registry limits', async () => {
    const stack = newStack('Limited');
    new MirrorSet(stack, 'Mirror', {
      lockFile: NO_LOCK,
      registryLimits: { 'docker.io': { rate: 2 }, 'swr.cn-north-4.myhuaweicloud.com': { bandwidth: '50M' } },
    });
    new MirroredImage(stack, 'nginx', { source: 'nginx', tags: ['1.27'], destination: 'r.example/ns/nginx' });
    const file = join(fullSynth(stack).dir, 'swr-mirror.json');
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { registries?: unknown };
    assert.deepEqual(spec.registries, {
      'docker.io': { rate: 2 },
      'swr.cn-north-4.myhuaweicloud.com': { bandwidth: '50M' },
    });
    const { limits } = await loadImagesFileWithLimits(file, { env: {} });
    assert.deepEqual(Object.fromEntries(limits), {
      'docker.io': { rate: 2 },
      'swr.cn-north-4.myhuaweicloud.com': { bandwidth: 50_000_000 },
    });
    const other = newStack();
    throwsRule(
      () =>
        new MirrorSet(other, 'Mirror', { lockFile: NO_LOCK, registryLimits: { 'docker.io': { bandwidth: '10Mb' } } }),
      { path: 'MyStack/Mirror', prop: 'registryLimits', rule: /registries\.docker\.io\.bandwidth/ },
    );
  });

  it('takes copy-on-deploy defaults from the MirrorSet', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', {
      lockFile: NO_LOCK,
      copyOnDeploy: { srcAuthFile: 'src.json', destAuthFile: 'dst.json' },
    });
    new MirroredImage(stack, 'a', { source: 'nginx', tags: ['1'], destination: 'r.example/ns/nginx' });
    new MirroredImage(stack, 'b', {
      source: 'redis',
      tags: ['7'],
      destination: 'r.example/ns/redis',
      copyOnDeploy: false,
    });
    const data = resources(synth(stack), 'terraform_data');
    assert.equal(data.length, 1);
    assert.equal(
      data[0].provisioner[0]['local-exec'].command,
      `swr-sync copy docker.io/library/nginx:1 r.example/ns/nginx:1 --src-authfile ${resolve('src.json')} --dest-authfile ${resolve('dst.json')}`,
    );
  });

  it('fails synth validation when two images write one destination tag from different sources', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    new MirroredImage(stack, 'a', { source: 'nginx', tags: ['1'], destination: 'r.example/ns/web' });
    new MirroredImage(stack, 'b', { source: 'ghcr.io/acme/web', tags: ['2', '1'], destination: 'r.example/ns/web' });
    assert.throws(
      () => Testing.synth(stack, true),
      /MyStack\/b: destination "r\.example\/ns\/web:1" is also written by MyStack\/a from "docker\.io\/library\/nginx"; each destination tag must have one source/,
    );
    assert.throws(() => Testing.fullSynth(stack), /each destination tag must have one source/);
  });

  const base: MirroredImageProps = { source: 'nginx', tags: ['1.27'], destination: 'r.example/ns/nginx' };
  const cases: [string, Partial<MirroredImageProps>, string, string | undefined, string | RegExp][] = [
    [
      'a source that is not a reference',
      { source: 'Not A Ref' },
      'source',
      '"Not A Ref"',
      'must be an image reference [registry[:port]/]path',
    ],
    [
      'a source digest',
      { source: `nginx@${D1}`, tags: undefined },
      'source',
      `"nginx@${D1}"`,
      'must not carry a digest',
    ],
    [
      'a source tag together with tags',
      { source: 'nginx:1.27' },
      'source',
      '"nginx:1.27"',
      'must not carry a tag when tags is set',
    ],
    ['an empty tag list', { tags: [] }, 'tags', '[]', 'must list at least one tag'],
    ['a bad tag', { tags: ['.hidden'] }, 'tags[0]', '".hidden"', 'must be a tag'],
    ['a repeated tag', { tags: ['1', '1'] }, 'tags[1]', '"1"', 'must appear once'],
    ['a bad platform', { platforms: ['amd64'] }, 'platforms[0]', '"amd64"', "must be 'os/arch' or 'os/arch/variant'"],
    [
      'a destination with a tag',
      { destination: 'r.example/ns/nginx:1' },
      'destination',
      '"r.example/ns/nginx:1"',
      'must be a repository without tag or digest',
    ],
    [
      'a destination equal to the source',
      { destination: 'docker.io/library/nginx' },
      'destination',
      '"docker.io/library/nginx"',
      'must differ from source',
    ],
    [
      'no destination at all',
      { destination: undefined },
      'destination',
      '(unset)',
      'is required (or set defaultDestination on the MirrorSet)',
    ],
    [
      'a bad repository name',
      { destination: 'r.example/ns', repositoryName: 'Web' },
      'repositoryName',
      '"Web"',
      'must be 1-128 lowercase letters',
    ],
    [
      'copy-on-deploy without tags',
      { source: 'nginx', tags: undefined, copyOnDeploy: true },
      'copyOnDeploy',
      'true',
      'needs tags',
    ],
    [
      'an empty copy command',
      { copyOnDeploy: { command: ' ' } },
      'copyOnDeploy.command',
      '" "',
      'must be a non-empty command',
    ],
  ];
  for (const [why, props, prop, value, rule] of cases) {
    it(`rejects ${why}`, () => {
      const stack = newStack();
      new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
      throwsRule(() => new MirroredImage(stack, 'img', { ...base, ...props }), {
        path: 'MyStack/img',
        prop,
        value,
        rule,
      });
    });
  }

  it('rejects values only known at apply time where swr-mirror.json needs them', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    const v = new TerraformVariable(stack, 'src', { type: 'string' });
    throwsRule(() => new MirroredImage(stack, 'a', { ...base, source: v.stringValue }), {
      path: 'MyStack/a',
      prop: 'source',
      value: '(unresolved token)',
      rule: 'must be known at synth: it is written to swr-mirror.json',
    });
    // No region here or in the provider (HW_REGION_NAME at plan time): the login server is an attribute.
    const bare = newStack('Bare', { providers: false });
    new HuaweicloudProvider(bare, 'hw', {});
    const org = new SwrOrganization(bare, 'org', { name: 'acme' });
    throwsRule(() => new MirroredImage(bare, 'b', { ...base, destination: org }), {
      path: 'Bare/b',
      prop: 'destination',
      value: '(unresolved token)',
      rule: "must be known at synth (the organization's login server): give the organization a region",
    });
  });

  it('refuses reference without tags and tags that are not mirrored', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    const all = new MirroredImage(stack, 'all', { source: 'nginx', destination: 'r.example/ns/nginx' });
    throwsRule(() => all.reference, {
      path: 'MyStack/all',
      prop: 'tags',
      value: '(unset)',
      rule: 'must be set to use reference',
    });
    const one = new MirroredImage(stack, 'one', { source: 'redis', tags: ['7'], destination: 'r.example/ns/redis' });
    throwsRule(() => one.referenceFor('8'), {
      path: 'MyStack/one',
      prop: 'tag',
      value: '"8"',
      rule: 'must be one of the mirrored tags (7)',
    });
  });
});
