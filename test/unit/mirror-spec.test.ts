import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeMirrorSpec, type MirrorSpec } from '../../constructs/mirror-spec.js';
import { parseImagesFile } from '../../src/config/images-file.js';
import type { MirrorRule } from '../../src/config/mirror-rule.js';
import type { ImagesFileOptions } from '../../src/config/destinations.js';
import { MirrorSpecFileSchema, parseMirrorSpec } from '../../src/config/mirror-spec.js';
import { type ConfigError, ConfigErrors } from '../../src/errors.js';

const FILE = 'swr-mirror.json';
const SWR = 'swr.cn-north-4.myhuaweicloud.com';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const NO_ENV: ImagesFileOptions = { env: {} };
const DEFAULTS: ImagesFileOptions = { registry: SWR, namespace: 'acme', env: {} };

function spec(images: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { version: 1, ...extra, images };
}

function rules(images: unknown[], options: ImagesFileOptions = NO_ENV): MirrorRule[] {
  return parseMirrorSpec(spec(images), FILE, options);
}

function rule(image: Record<string, unknown>, options: ImagesFileOptions = NO_ENV): MirrorRule {
  const [only, ...rest] = rules([image], options);
  assert.equal(rest.length, 0);
  return only as MirrorRule;
}

function problems(document: unknown, options: ImagesFileOptions = NO_ENV): ConfigError[] {
  let caught: unknown;
  try {
    parseMirrorSpec(document, FILE, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigErrors, `expected ConfigErrors, got ${String(caught)}`);
  assert.equal(caught.code, 'ERR_INVALID_CONFIG');
  for (const p of caught.problems) assert.equal(p.file, FILE);
  return [...caught.problems];
}

function assertProblem(
  document: unknown,
  key: string | undefined,
  parts: readonly string[],
  options: ImagesFileOptions = NO_ENV,
): ConfigError {
  const found = problems(document, options);
  assert.equal(found.length, 1, found.map((p) => p.message).join('\n'));
  const problem = found[0] as ConfigError;
  assert.equal(problem.key, key);
  if (key !== undefined) assert.ok(problem.message.includes(`key "${key}"`), problem.message);
  for (const part of parts) assert.ok(problem.message.includes(part), `"${part}" not in: ${problem.message}`);
  return problem;
}

const constructsSpec: MirrorSpec = {
  version: 1,
  stack: 'swr-example',
  images: [
    {
      id: 'nginx',
      source: 'docker.io/library/nginx',
      destination: `${SWR}/acme-platform/nginx`,
      tags: ['1.27'],
      platforms: ['linux/amd64', 'linux/arm64'],
    },
    { id: 'redis', source: 'docker.io/library/redis', destination: `${SWR}/acme-platform/redis`, tags: ['7.4', '7.2'] },
    { id: 'Mirrors/api', source: 'harbor.example.com/platform/api', destination: `${SWR}/acme-platform/api` },
  ],
};

describe('mirror spec: the file the constructs write', () => {
  it('parses, through --images too', () => {
    const text = serializeMirrorSpec(constructsSpec);
    const parsed = parseImagesFile(text, FILE, NO_ENV);
    assert.deepEqual(parsed, [
      {
        file: FILE,
        key: 'images[0] (id "nginx")',
        id: 'nginx',
        source: { registry: 'docker.io', repository: 'library/nginx' },
        selection: { kind: 'tags', tags: ['1.27'] },
        destinations: [{ registry: SWR, repository: 'acme-platform/nginx' }],
        platforms: [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64' },
        ],
      },
      {
        file: FILE,
        key: 'images[1] (id "redis")',
        id: 'redis',
        source: { registry: 'docker.io', repository: 'library/redis' },
        selection: { kind: 'tags', tags: ['7.4', '7.2'] },
        destinations: [{ registry: SWR, repository: 'acme-platform/redis' }],
      },
      {
        file: FILE,
        key: 'images[2] (id "Mirrors/api")',
        id: 'Mirrors/api',
        source: { registry: 'harbor.example.com', repository: 'platform/api' },
        selection: { kind: 'all' },
        destinations: [{ registry: SWR, repository: 'acme-platform/api' }],
      },
    ]);
  });

  it('matches the exported schema', () => {
    const parsed = MirrorSpecFileSchema.safeParse(JSON.parse(serializeMirrorSpec(constructsSpec)));
    assert.equal(parsed.success, true);
  });

  it('is read from YAML too, with $schema', () => {
    const yaml = [
      '$schema: https://example.com/swr-mirror.schema.json',
      'version: 1',
      'images:',
      '  - source: nginx',
      '    destination: swr.example.com/n/nginx',
      '    tags: ["1.27", "1.26"]',
      '',
    ].join('\n');
    const [only] = parseImagesFile(yaml, 'swr-mirror.yaml', NO_ENV);
    assert.deepEqual(only?.selection, { kind: 'tags', tags: ['1.27', '1.26'] });
    assert.equal(only?.key, 'images[0]');
  });
});

describe('mirror spec: source and tags', () => {
  it('a tag in the source is that one tag; a digest that one digest', () => {
    assert.deepEqual(rule({ source: 'nginx:1.27', destination: `${SWR}/a/nginx` }).selection, {
      kind: 'tags',
      tags: ['1.27'],
    });
    const pinned = rule({ source: `nginx@${DIGEST}`, destination: `${SWR}/a/nginx` });
    assert.deepEqual(pinned.selection, { kind: 'digest', digest: DIGEST });
    assert.deepEqual(pinned.destinations, [{ registry: SWR, repository: 'a/nginx' }]);
    const tagged = rule({ source: `nginx:1.27@${DIGEST}`, destination: `${SWR}/a/nginx` });
    assert.deepEqual(tagged.destinations, [{ registry: SWR, repository: 'a/nginx', tags: ['1.27'] }]);
  });

  it('no tags and no tag in the source: all tags', () => {
    assert.deepEqual(rule({ source: 'quay.io/coreos/etcd', destination: `${SWR}/a/etcd` }).selection, { kind: 'all' });
  });

  it('tags with /regex/ entries: a filter, exact tags anchored', () => {
    const r = rule({ source: 'nginx', destination: `${SWR}/a/nginx`, tags: ['1.27.1', '/^1\\.28\\./'] });
    assert.equal(r.selection.kind, 'filter');
    if (r.selection.kind !== 'filter') return;
    assert.deepEqual(
      r.selection.include.map((re) => re.source),
      ['^1\\.27\\.1$', '^1\\.28\\.'],
    );
    assert.ok(r.selection.include[0]?.test('1.27.1'));
    assert.ok(!r.selection.include[0]?.test('1x27x1'));
    assert.deepEqual(r.selection.exclude, []);
  });

  it('the tags object: include, exclude, semver, latest', () => {
    const r = rule({
      source: 'nginx',
      destination: `${SWR}/a/nginx`,
      tags: { include: ['^1\\.', '/alpine$/'], exclude: ['-rc'], semver: '>=1.25 <2', latest: 3 },
    });
    assert.equal(r.selection.kind, 'filter');
    if (r.selection.kind !== 'filter') return;
    assert.deepEqual(
      r.selection.include.map((re) => re.source),
      ['^1\\.', 'alpine$'],
    );
    assert.deepEqual(
      r.selection.exclude.map((re) => re.source),
      ['-rc'],
    );
    assert.equal(r.selection.semver, '>=1.25 <2');
    assert.equal(r.selection.latest, 3);
  });

  it('an empty tags object is all tags; semver alone is a filter', () => {
    assert.deepEqual(rule({ source: 'nginx', destination: `${SWR}/a/nginx`, tags: {} }).selection, { kind: 'all' });
    assert.deepEqual(rule({ source: 'nginx', destination: `${SWR}/a/nginx`, tags: { semver: '^1.2' } }).selection, {
      kind: 'filter',
      include: [],
      exclude: [],
      semver: '^1.2',
    });
  });

  const key = 'images[0] (id "web")';
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ tags: { semver: 'not a range!' } }, '"tags.semver" "not a range!" is not a semver range'],
    [{ tags: { latest: 0 } }, '"tags.latest" must be greater than 0'],
    [{ tags: { latest: 1.5 } }, '"tags.latest" must be a whole number'],
    [{ tags: { include: ['(unclosed'] } }, '"tags.include[0]" "(unclosed" is not a valid RE2 regular expression'],
    [{ tags: { exclude: ['[z-a]'] } }, '"tags.exclude[0]" "[z-a]" is not a valid RE2 regular expression'],
    [{ tags: { newest: 3 } }, '"tags" has unknown field "newest"'],
    [{ tags: [] }, '"tags" lists no tags'],
    [{ tags: ['1.0', '1.0'] }, '"tags[1]" "1.0" is listed twice'],
    [{ tags: ['-bad'] }, '"tags[0]" "-bad" is not a valid tag'],
    [{ tags: ['/(x/'] }, '"tags[0]" "(x" is not a valid RE2 regular expression'],
    [{ tags: [1.1] }, '"tags[0]" must be a string (quote it'],
    [{ tags: 'latest' }, '"tags" must be a list of tags'],
    [{ source: 'nginx:1.27', tags: ['1.26'] }, 'must not have a tag or digest when "tags" is set'],
    [{ source: `nginx@${DIGEST}`, tags: ['1.26'] }, 'must not have a tag or digest when "tags" is set'],
    [{ source: 'nginx:1.26,1.27' }, 'names several tags or a regex: list them in "tags"'],
    [{ source: 'nginx:/^1/' }, 'names several tags or a regex'],
    [{ source: 'quay.io' }, '(rule 1)'],
    [{ source: 'quay.io/Coreos/etcd' }, 'lowercase'],
    [{ source: '' }, '(rule 4)'],
  ];
  for (const [fields, expected] of bad) {
    it(`rejects ${JSON.stringify(fields)}`, () => {
      assertProblem(spec([{ id: 'web', source: 'nginx', destination: `${SWR}/a/nginx`, ...fields }]), key, [expected]);
    });
  }
});

describe('mirror spec: destination', () => {
  it('absent: rule 8 default from options or the environment', () => {
    assert.deepEqual(rule({ source: 'quay.io/coreos/etcd:3.5' }, DEFAULTS).destinations, [
      { registry: SWR, repository: 'acme/etcd' },
    ]);
    assert.deepEqual(
      rule({ source: 'quay.io/coreos/etcd' }, { env: { DEFAULT_REGISTRY: 'r.example.com', DEFAULT_NAMESPACE: 'n' } })
        .destinations,
      [{ registry: 'r.example.com', repository: 'n/etcd' }],
    );
  });

  it('absent without defaults: an error naming rule 8 and what to set', () => {
    assertProblem(spec([{ source: 'quay.io/coreos/etcd' }]), 'images[0]', [
      '"destination" is not set',
      '(rule 8)',
      '--registry',
      'DEFAULT_NAMESPACE',
    ]);
  });

  it('a destination tag renames a single tag; not allowed for all tags', () => {
    assert.deepEqual(rule({ source: 'nginx:1.27', destination: `${SWR}/a/nginx:stable` }).destinations, [
      { registry: SWR, repository: 'a/nginx', tags: ['stable'] },
    ]);
    assertProblem(spec([{ source: 'nginx', destination: `${SWR}/a/nginx:stable` }]), 'images[0]', [
      'must not have a tag when the source has none (rule 6',
    ]);
    assertProblem(spec([{ source: 'nginx', tags: { latest: 2 }, destination: `${SWR}/a/nginx:stable` }]), 'images[0]', [
      'must not have a tag',
    ]);
  });

  it('must name a registry', () => {
    assertProblem(spec([{ source: 'nginx', destination: 'acme/nginx' }]), 'images[0]', [
      'destination "acme/nginx" must name a registry',
      '(rule 3)',
    ]);
  });

  it('expands ${VAR}', () => {
    const r = rule({ source: '${SRC}:1', destination: '${DST}/a/app' }, { env: { SRC: 'ghcr.io/o/app', DST: SWR } });
    assert.deepEqual(r.source, { registry: 'ghcr.io', repository: 'o/app' });
    assert.deepEqual(r.destinations, [{ registry: SWR, repository: 'a/app' }]);
    assertProblem(spec([{ source: 'nginx', destination: '${NOPE}/a/nginx' }]), 'images[0]', [
      '"destination": environment variable NOPE is not set',
    ]);
  });
});

describe('mirror spec: flatten', () => {
  const repositoryFor = (source: string, flatten: unknown, destination: string | undefined = `${SWR}/acme`): string => {
    const r = rule({ source, flatten, ...(destination !== undefined ? { destination } : {}) }, DEFAULTS);
    const [d] = r.destinations;
    return `${d?.registry}/${d?.repository}`;
  };

  it('all keeps the last component', () => {
    assert.equal(repositoryFor('docker.io/library/nginx', 'all'), `${SWR}/acme/nginx`);
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 'all'), `${SWR}/acme/d`);
  });

  it('none keeps the whole path', () => {
    assert.equal(repositoryFor('docker.io/library/nginx', 'none'), `${SWR}/acme/library/nginx`);
    assert.equal(repositoryFor('nginx', 'none'), `${SWR}/acme/library/nginx`);
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 'none'), `${SWR}/acme/a/b/c/d`);
  });

  it('N drops the first N components, always keeping the last', () => {
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 1), `${SWR}/acme/b/c/d`);
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 2), `${SWR}/acme/c/d`);
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 3), `${SWR}/acme/d`);
    assert.equal(repositoryFor('ghcr.io/a/b/c/d', 9), `${SWR}/acme/d`);
    assert.equal(repositoryFor('docker.io/library/nginx', 1), `${SWR}/acme/nginx`);
  });

  it('the destination may be a registry alone, with a trailing "/", or absent (the defaults)', () => {
    assert.equal(repositoryFor('ghcr.io/a/b', 'none', 'registry.example.com:5000'), 'registry.example.com:5000/a/b');
    assert.equal(repositoryFor('ghcr.io/a/b', 'none', `${SWR}/acme/`), `${SWR}/acme/a/b`);
    assert.equal(repositoryFor('ghcr.io/a/b', 'none', undefined), `${SWR}/acme/a/b`);
  });

  it('keeps the selection and destination tag rules', () => {
    const r = rule({ source: 'ghcr.io/a/b:1.0', flatten: 'all', destination: `${SWR}/acme` });
    assert.deepEqual(r.selection, { kind: 'tags', tags: ['1.0'] });
    assert.deepEqual(r.destinations, [{ registry: SWR, repository: 'acme/b' }]);
  });

  it('rejects a destination with a tag, without a registry, or a bad level', () => {
    assertProblem(spec([{ source: 'ghcr.io/a/b:1', flatten: 'all', destination: `${SWR}/acme:1` }]), 'images[0]', [
      'must not have a tag or digest when "flatten" is set',
    ]);
    assertProblem(spec([{ source: 'ghcr.io/a/b', flatten: 'all', destination: 'acme' }]), 'images[0]', [
      'must be registry[/namespace] when "flatten" is set',
    ]);
    assertProblem(spec([{ source: 'ghcr.io/a/b', flatten: 0, destination: SWR }]), 'images[0]', [
      '"flatten" must be greater than 0',
    ]);
    assertProblem(spec([{ source: 'ghcr.io/a/b', flatten: 'some', destination: SWR }]), 'images[0]', [
      '"flatten" must be "all", "none" or a number',
    ]);
  });
});

describe('mirror spec: platforms', () => {
  it('parses os/arch[/variant]', () => {
    assert.deepEqual(
      rule({ source: 'nginx', destination: `${SWR}/a/nginx`, platforms: ['linux/arm/v7', 'windows/amd64'] }).platforms,
      [
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'windows', architecture: 'amd64' },
      ],
    );
  });

  it('names the image and the entry of a bad platform', () => {
    const found = problems(
      spec([
        { id: 'web', source: 'nginx', destination: `${SWR}/a/nginx`, platforms: ['linux/amd64', 'linux', 'x/y/z/w'] },
      ]),
    );
    assert.deepEqual(
      found.map((p) => p.key),
      ['images[0] (id "web")', 'images[0] (id "web")'],
    );
    assert.ok(
      found[0]?.message.includes('platforms[1]') && found[0].message.includes('"linux" is not os/arch'),
      found[0]?.message,
    );
    assert.ok(found[1]?.message.includes('platforms[2]'), found[1]?.message);
  });

  it('rejects an empty list', () => {
    assertProblem(spec([{ source: 'nginx', destination: `${SWR}/a/nginx`, platforms: [] }]), 'images[0]', [
      '"platforms" lists no platform',
    ]);
  });
});

describe('mirror spec: the file', () => {
  it('rejects another version, naming it', () => {
    assertProblem({ version: 2, images: [] }, undefined, ['mirror spec version 2 is not supported', 'version 1']);
    assertProblem({ version: '1', images: [] }, undefined, ['mirror spec version "1" is not supported']);
    assertProblem({ images: [] }, undefined, ['"version" is missing']);
  });

  it('is strict: unknown fields at the top and in images, but $schema is allowed', () => {
    const found = problems(
      spec([{ source: 'nginx', destination: `${SWR}/a/nginx`, tag: '1' }], { extra: true, $schema: 'x' }),
    );
    assert.deepEqual(
      found.map((p) => [p.key, p.message.replace(/^[^:]*: /, '')]),
      [
        [undefined, 'unknown field "extra" (allowed: $schema, version, stack, images, registries)'],
        ['images[0]', 'unknown field "tag" (allowed: id, source, destination, tags, platforms, flatten, referrers)'],
      ],
    );
  });

  it('rejects no images, images that are not a list, an image that is not an object', () => {
    assertProblem(spec([]), undefined, ['"images" lists no images']);
    assertProblem({ version: 1, images: {} }, undefined, ['"images" must be an array']);
    assertProblem(spec(['nginx']), 'images[0]', ['must be an object']);
    assertProblem(spec([{ destination: `${SWR}/a/b` }]), 'images[0]', ['"source" must be a string']);
    assertProblem('swr', undefined, ['a mirror spec is an object']);
  });

  it('rejects a repeated id, naming the first image', () => {
    assertProblem(
      spec([
        { id: 'web', source: 'nginx:1', destination: `${SWR}/a/nginx` },
        { id: 'web', source: 'nginx:2', destination: `${SWR}/a/nginx` },
      ]),
      'images[1] (id "web")',
      ['id "web" is also the id of images[0]'],
    );
  });

  it('rejects a destination written by two images, naming both', () => {
    assertProblem(
      spec([
        { id: 'a', source: 'nginx:1.27', destination: `${SWR}/a/nginx` },
        { id: 'b', source: 'ghcr.io/x/nginx', destination: `${SWR}/a/web`, tags: ['1.27'] },
        { id: 'c', source: 'ghcr.io/y/nginx:1.27', destination: `${SWR}/a/nginx` },
      ]),
      'images[2] (id "c")',
      [`destination "${SWR}/a/nginx:1.27" is also written by key "images[0] (id "a")"`],
    );
  });

  it('reports every problem of every image', () => {
    const found = problems(
      spec([
        { id: 'ok', source: 'nginx:1', destination: `${SWR}/a/nginx` },
        { id: 'v', source: 'nginx', tags: { semver: '???' }, destination: `${SWR}/a/x` },
        { source: 'quay.io/a/b', destination: 'nowhere', platforms: ['bad'] },
        { source: 'quay.io/a/c', flatten: 'x', bogus: 1 },
      ]),
    );
    assert.deepEqual(
      found.map((p) => p.key),
      ['images[1] (id "v")', 'images[2]', 'images[2]', 'images[3]', 'images[3]'],
    );
    const text = found.map((p) => p.message).join('\n');
    for (const part of [
      'not a semver range',
      'platforms[0]',
      '(rule 3)',
      '"flatten" must be',
      'unknown field "bogus"',
    ]) {
      assert.ok(text.includes(part), `${part} not in:\n${text}`);
    }
  });
});
