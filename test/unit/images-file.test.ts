import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadImagesFile, parseImagesFile, type ImagesFileOptions } from '../../src/config/images-file.js';
import type { MirrorRule } from '../../src/config/mirror-rule.js';
import { ConfigError, ConfigErrors } from '../../src/errors.js';

const FILE = 'images.json';
const SWR = 'swr.cn-north-4.myhuaweicloud.com';
const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;
/** No DEFAULT_* from the machine running the tests. */
const NO_ENV: ImagesFileOptions = { env: {} };
const DEFAULTS: ImagesFileOptions = { registry: SWR, namespace: 'test', env: {} };

function parse(doc: unknown, options: ImagesFileOptions = NO_ENV): MirrorRule[] {
  return parseImagesFile(JSON.stringify(doc), FILE, options);
}

function one(doc: Record<string, unknown>, options: ImagesFileOptions = NO_ENV): MirrorRule {
  const rules = parse(doc, options);
  assert.equal(rules.length, 1);
  return rules[0] as MirrorRule;
}

/** The problems a text or document raises, asserting the aggregate error's shape. */
function problems(input: unknown, options: ImagesFileOptions = NO_ENV, file = FILE): ConfigError[] {
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  let caught: unknown;
  try {
    parseImagesFile(text, file, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigErrors, `expected ConfigErrors, got ${String(caught)}`);
  assert.equal(caught.code, 'ERR_INVALID_CONFIG');
  assert.equal(caught.isInputError, true);
  assert.equal(caught.file, file);
  assert.ok(caught.problems.length > 0);
  assert.equal(caught.message, caught.problems.map((p) => p.message).join('\n'));
  for (const p of caught.problems) {
    assert.ok(p instanceof ConfigError);
    assert.equal(p.file, file);
    assert.ok(p.message.startsWith(file), p.message);
  }
  return [...caught.problems];
}

/** Exactly one problem, for `key`, whose message contains every part. */
function assertProblem(
  input: unknown,
  key: string | undefined,
  parts: readonly (string | RegExp)[],
  options: ImagesFileOptions = NO_ENV,
): ConfigError {
  const found = problems(input, options);
  assert.equal(found.length, 1, found.map((p) => p.message).join('\n'));
  const problem = found[0] as ConfigError;
  if (key !== undefined) {
    assert.equal(problem.key, key);
    if (key !== '') assert.ok(problem.message.includes(`key "${key}"`), problem.message);
  }
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(problem.message.includes(part), `"${part}" not in: ${problem.message}`);
    else assert.match(problem.message, part);
  }
  return problem;
}

describe('images.json: the Huawei Cloud example', () => {
  it('parses the three documented rules', () => {
    const rules = parse({
      'quay.io/coreos/etcd:1.0.0': `${SWR}/test/etcd:1.0.0`,
      'quay.io/coreos/etcd': `${SWR}/test/etcd`,
      'quay.io/coreos/etcd:2.7.3': `${SWR}/test/etcd`,
    });
    assert.deepEqual(rules, [
      {
        file: FILE,
        key: 'quay.io/coreos/etcd:1.0.0',
        source: { registry: 'quay.io', repository: 'coreos/etcd' },
        selection: { kind: 'tags', tags: ['1.0.0'] },
        destinations: [{ registry: SWR, repository: 'test/etcd', tags: ['1.0.0'] }],
      },
      {
        file: FILE,
        key: 'quay.io/coreos/etcd',
        source: { registry: 'quay.io', repository: 'coreos/etcd' },
        selection: { kind: 'all' },
        destinations: [{ registry: SWR, repository: 'test/etcd' }],
      },
      {
        file: FILE,
        key: 'quay.io/coreos/etcd:2.7.3',
        source: { registry: 'quay.io', repository: 'coreos/etcd' },
        selection: { kind: 'tags', tags: ['2.7.3'] },
        destinations: [{ registry: SWR, repository: 'test/etcd' }],
      },
    ]);
  });
});

describe('images.json rule 1: the largest unit is a repository', () => {
  it('accepts a repository', () => {
    assert.equal(one({ 'quay.io/coreos/etcd': `${SWR}/test/etcd` }).source.repository, 'coreos/etcd');
  });

  for (const key of [
    'quay.io',
    'localhost:5000',
    '127.0.0.1:5000',
    'quay.io/coreos/',
    'quay.io/coreos/*',
    'quay.io/*/etcd',
  ]) {
    it(`rejects ${key}`, () => {
      assertProblem({ [key]: `${SWR}/test/etcd` }, key, [`source "${key}"`, '(rule 1)']);
    });
  }

  it('names the problem: only a registry, a trailing "/", a wildcard', () => {
    assertProblem({ 'quay.io': '' }, 'quay.io', ['names only a registry'], DEFAULTS);
    assertProblem({ 'quay.io/coreos/': '' }, 'quay.io/coreos/', ['ends with "/"'], DEFAULTS);
    assertProblem({ 'quay.io/coreos/*': '' }, 'quay.io/coreos/*', ['wildcards are not supported'], DEFAULTS);
  });

  it('applies to destinations too', () => {
    assertProblem({ 'quay.io/coreos/etcd': `${SWR}/test/` }, 'quay.io/coreos/etcd', [
      `destination "${SWR}/test/"`,
      '(rule 1)',
    ]);
    assertProblem({ 'quay.io/coreos/etcd': `${SWR}/test/*` }, 'quay.io/coreos/etcd', ['(rule 1)']);
  });
});

describe('images.json rule 2: registry/namespace/repository[:tag]', () => {
  it('accepts references with ports, dots, dashes, underscores', () => {
    const rule = one({ 'localhost:5000/a.b/c_d/e-f:v1.2_3': 'reg.example.com:5443/x__y/z:v1' });
    assert.deepEqual(rule.source, { registry: 'localhost:5000', repository: 'a.b/c_d/e-f' });
    assert.deepEqual(rule.selection, { kind: 'tags', tags: ['v1.2_3'] });
    assert.deepEqual(rule.destinations, [{ registry: 'reg.example.com:5443', repository: 'x__y/z', tags: ['v1'] }]);
  });

  it('extension: a source without a registry is on Docker Hub', () => {
    assert.deepEqual(one({ nginx: `${SWR}/test/nginx` }).source, {
      registry: 'docker.io',
      repository: 'library/nginx',
    });
    assert.deepEqual(one({ 'bitnami/redis:7': `${SWR}/test/redis` }).source, {
      registry: 'docker.io',
      repository: 'bitnami/redis',
    });
    assert.deepEqual(one({ 'index.docker.io/library/nginx': `${SWR}/test/nginx` }).source, {
      registry: 'docker.io',
      repository: 'library/nginx',
    });
  });

  it('extension: registry/repository without a namespace', () => {
    const rule = one({ 'quay.io/etcd:1': 'registry.example.com/etcd' });
    assert.deepEqual(rule.source, { registry: 'quay.io', repository: 'etcd' });
    assert.deepEqual(rule.destinations, [{ registry: 'registry.example.com', repository: 'etcd' }]);
  });

  const bad: Array<[string, string]> = [
    ['quay.io/CoreOS/etcd', 'must be lowercase ("CoreOS")'],
    ['quay.io//etcd', 'path components must not be empty'],
    ['quay.io/coreos/etcd:-1', 'invalid tag "-1"'],
    ['quay.io/coreos/etcd:', 'empty tag'],
    ['quay.io/coreos/etcd@sha256:abc', 'invalid digest'],
    ['quay.io/coreos/etcd@md5:abc', 'invalid digest'],
    ['https://quay.io/coreos/etcd', 'URL scheme'],
    ['quay.io/coreos/et cd', 'whitespace'],
    ['quay.io/coreos/-etcd', 'path component "-etcd"'],
  ];
  for (const [key, reason] of bad) {
    it(`rejects source ${key}: ${reason}`, () => {
      assertProblem({ [key]: `${SWR}/test/etcd` }, key, [`source "${key}"`, reason, '(rule 2)']);
    });
  }

  it('rejects a bad destination with the reason', () => {
    assertProblem({ 'quay.io/coreos/etcd': `${SWR}/Test/etcd` }, 'quay.io/coreos/etcd', [
      `destination "${SWR}/Test/etcd"`,
      'lowercase',
      '(rule 2)',
    ]);
    assertProblem({ 'quay.io/coreos/etcd:1': `${SWR}/test/etcd:bad!` }, 'quay.io/coreos/etcd:1', [
      'invalid tag "bad!"',
      '(rule 2)',
    ]);
    assertProblem({ 'quay.io/coreos/etcd:1': `${SWR}/test/etcd@${DIGEST}` }, 'quay.io/coreos/etcd:1', [
      'cannot name a digest',
      '(rule 2)',
    ]);
  });
});

describe('images.json rule 3: a destination names a registry and a repository', () => {
  it('accepts registry/namespace/repository', () => {
    assert.equal(one({ 'quay.io/coreos/etcd': `${SWR}/test/etcd` }).destinations[0]?.registry, SWR);
  });

  for (const destination of ['test/etcd', 'etcd', 'etcd:1.0', SWR, `${SWR}:443`]) {
    it(`rejects destination ${destination}`, () => {
      assertProblem({ 'quay.io/coreos/etcd:1.0': destination }, 'quay.io/coreos/etcd:1.0', [
        `destination "${destination}"`,
        '(rule 3)',
      ]);
    });
  }
});

describe('images.json rule 4: the source is never empty', () => {
  it('accepts a non-empty source', () => {
    assert.equal(parse({ 'quay.io/coreos/etcd': `${SWR}/test/etcd` }).length, 1);
  });

  it('rejects an empty key', () => {
    const problem = assertProblem({ '': `${SWR}/test/etcd` }, '', ['the source is empty', '(rule 4)']);
    assert.ok(problem.message.startsWith(`${FILE}: `));
  });

  it('rejects a blank key', () => {
    assertProblem({ '  ': `${SWR}/test/etcd` }, '  ', ['(rule 4)']);
  });

  it('rejects a YAML null key', () => {
    assertProblem(`~: ${SWR}/test/etcd\n`, '', ['(rule 4)']);
  });
});

describe('images.json rule 5: the destination may be renamed', () => {
  it('copies to another repository name', () => {
    const rule = one({ 'quay.io/coreos/etcd:1.0.0': `${SWR}/other/my-etcd` });
    assert.deepEqual(rule.destinations, [{ registry: SWR, repository: 'other/my-etcd' }]);
  });

  it('a new name still follows the grammar', () => {
    assertProblem({ 'quay.io/coreos/etcd:1.0.0': `${SWR}/other/My_Etcd` }, 'quay.io/coreos/etcd:1.0.0', [
      'lowercase',
      '(rule 2)',
    ]);
  });
});

describe('images.json rule 6: no tag in the source = all tags', () => {
  it('selects all tags; the destination has no tag', () => {
    const rule = one({ 'quay.io/coreos/etcd': `${SWR}/test/etcd` });
    assert.deepEqual(rule.selection, { kind: 'all' });
    assert.deepEqual(rule.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
  });

  it('rejects a destination tag', () => {
    assertProblem({ 'quay.io/coreos/etcd': `${SWR}/test/etcd:1.0.0` }, 'quay.io/coreos/etcd', [
      `destination "${SWR}/test/etcd:1.0.0" must not have a tag when the source has none (rule 6`,
    ]);
  });
});

describe('images.json rule 7: a source tag copies one tag', () => {
  it('keeps the tag when the destination has none', () => {
    const rule = one({ 'quay.io/coreos/etcd:2.7.3': `${SWR}/test/etcd` });
    assert.deepEqual(rule.selection, { kind: 'tags', tags: ['2.7.3'] });
    assert.equal(rule.destinations[0]?.tags, undefined);
    assert.deepEqual(rule.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
  });

  it("takes the destination's tag", () => {
    const rule = one({ 'quay.io/coreos/etcd:2.7.3': `${SWR}/test/etcd:stable` });
    assert.deepEqual(rule.destinations, [{ registry: SWR, repository: 'test/etcd', tags: ['stable'] }]);
  });

  it('rejects more destination tags than source tags', () => {
    assertProblem({ 'quay.io/coreos/etcd:2.7.3': `${SWR}/test/etcd:a,b` }, 'quay.io/coreos/etcd:2.7.3', [
      "has 2 tags for the source's 1",
      '(rule 7)',
    ]);
  });
});

describe('images.json rule 8: an empty destination', () => {
  it('goes to <registry>/<namespace>/<source path after its namespace> with the source tag (image-migrator, image-syncer v1.x)', () => {
    const rules = parse(
      {
        'quay.io/coreos/etcd:1.0.0': '',
        'ghcr.io/a/b/c': null,
        'gcr.io/knative-releases/github.com/knative/build/cmd/creds-init:v1': '',
        'quay.io/etcd': '',
      },
      DEFAULTS,
    );
    assert.deepEqual(rules[0]?.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
    assert.deepEqual(rules[0]?.selection, { kind: 'tags', tags: ['1.0.0'] });
    assert.deepEqual(rules[1]?.destinations, [{ registry: SWR, repository: 'test/b/c' }]);
    assert.deepEqual(rules[2]?.destinations, [
      { registry: SWR, repository: 'test/github.com/knative/build/cmd/creds-init' },
    ]);
    assert.deepEqual(rules[2]?.selection, { kind: 'tags', tags: ['v1'] });
    assert.deepEqual(rules[3]?.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
  });

  it('takes DEFAULT_REGISTRY / DEFAULT_NAMESPACE from the environment; options win', () => {
    const env = { DEFAULT_REGISTRY: 'env.example.com', DEFAULT_NAMESPACE: 'envns' };
    assert.deepEqual(one({ nginx: '' }, { env }).destinations, [
      { registry: 'env.example.com', repository: 'envns/nginx' },
    ]);
    assert.deepEqual(one({ nginx: '' }, { env, namespace: 'flag' }).destinations, [
      { registry: 'env.example.com', repository: 'flag/nginx' },
    ]);
    assert.deepEqual(one({ nginx: '' }, { env, registry: 'flag.example.com:5000' }).destinations, [
      { registry: 'flag.example.com:5000', repository: 'envns/nginx' },
    ]);
  });

  it('accepts YAML null (a key without a value)', () => {
    const rule = parseImagesFile('quay.io/coreos/etcd:\n', 'images.yaml', DEFAULTS)[0];
    assert.deepEqual(rule?.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
  });

  it('without defaults: an error naming the key, rule 8, the flags and the variables', () => {
    assertProblem({ 'quay.io/coreos/etcd:1.0.0': '' }, 'quay.io/coreos/etcd:1.0.0', [
      'destination is empty',
      '(rule 8)',
      '--registry and --namespace',
      'DEFAULT_REGISTRY and DEFAULT_NAMESPACE',
    ]);
  });

  it('names only what is missing', () => {
    const problem = assertProblem(
      { nginx: '' },
      'nginx',
      ['no default namespace is set', '--namespace', 'DEFAULT_NAMESPACE'],
      { registry: SWR, env: {} },
    );
    assert.ok(!problem.message.includes('--registry'), problem.message);
  });

  it('rejects a default registry that is not a host', () => {
    assertProblem({ nginx: '' }, 'nginx', ['default registry "swr"', '(rule 8)'], {
      registry: 'swr',
      namespace: 'test',
      env: {},
    });
    assertProblem({ nginx: '' }, 'nginx', ['(rule 8)', 'lowercase'], { registry: SWR, namespace: 'Test', env: {} });
  });
});

describe('images.json: fan-out', () => {
  it('copies to every destination of a list, "" being the default', () => {
    const rule = one(
      { 'quay.io/coreos/kube-rbac-proxy:v1.1': ['quay.io/ruohe/proxy1', 'quay.io/ruohe/proxy2:v1', ''] },
      DEFAULTS,
    );
    assert.deepEqual(rule.selection, { kind: 'tags', tags: ['v1.1'] });
    assert.deepEqual(rule.destinations, [
      { registry: 'quay.io', repository: 'ruohe/proxy1' },
      { registry: 'quay.io', repository: 'ruohe/proxy2', tags: ['v1'] },
      { registry: SWR, repository: 'test/kube-rbac-proxy' },
    ]);
  });

  it('reports each bad entry by position', () => {
    const found = problems({ 'quay.io/a/b': ['quay.io/c/d', 5, 'quay.io/e/f:1'] });
    assert.equal(found.length, 2);
    assert.match(found[0]?.message ?? '', /destination \[1\] must be a string/);
    assert.match(
      found[1]?.message ?? '',
      /destination "quay\.io\/e\/f:1" must not have a tag when the source has none \(rule 6/,
    );
  });

  it('rejects an empty list and other values', () => {
    assertProblem({ 'quay.io/a/b': [] }, 'quay.io/a/b', ['lists no destinations']);
    assertProblem({ 'quay.io/a/b': { to: 'x' } }, 'quay.io/a/b', ['must be a string']);
    assertProblem({ 'quay.io/a/b': true }, 'quay.io/a/b', ['must be a string']);
  });
});

describe('images.json: image-syncer tag lists', () => {
  it('repo:a,b copies those tags', () => {
    const rule = one({ 'quay.io/coreos/kube-rbac-proxy:v1.0,v2.0': 'quay.io/ruohe/kube-rbac-proxy' });
    assert.deepEqual(rule.selection, { kind: 'tags', tags: ['v1.0', 'v2.0'] });
    assert.deepEqual(rule.destinations, [{ registry: 'quay.io', repository: 'ruohe/kube-rbac-proxy' }]);
  });

  it('a destination list renames by position', () => {
    const rule = one({ 'quay.io/a/b:v1.0,v2.0': 'quay.io/c/d:one,two' });
    assert.deepEqual(rule.destinations, [{ registry: 'quay.io', repository: 'c/d', tags: ['one', 'two'] }]);
  });

  it('the counts must match', () => {
    assertProblem({ 'quay.io/a/b:v1.0,v2.0,v3.0': 'quay.io/c/d:one,two' }, 'quay.io/a/b:v1.0,v2.0,v3.0', [
      `destination "quay.io/c/d:one,two" has 2 tags for the source's 3`,
      'by position',
    ]);
    assertProblem({ 'quay.io/a/b:v1.0,v2.0': 'quay.io/c/d:one' }, 'quay.io/a/b:v1.0,v2.0', [
      "has 1 tag for the source's 2",
    ]);
  });

  it('rejects empty and repeated tags', () => {
    assertProblem({ 'quay.io/a/b:v1,,v2': 'quay.io/c/d' }, 'quay.io/a/b:v1,,v2', ['empty tag', '(rule 2)']);
    assertProblem({ 'quay.io/a/b:v1,v1': 'quay.io/c/d' }, 'quay.io/a/b:v1,v1', ['lists tag "v1" twice']);
  });
});

describe('images.json: image-syncer tag regex', () => {
  it('repo:/regex/ is a filter', () => {
    const rule = one({ 'quay.io/coreos/kube-rbac-proxy:/^v1\\.[0-9]+$/': 'quay.io/ruohe/kube-rbac-proxy' });
    assert.equal(rule.selection.kind, 'filter');
    if (rule.selection.kind !== 'filter') return;
    assert.equal(rule.selection.include.length, 1);
    assert.equal(rule.selection.include[0]?.source, '^v1\\.[0-9]+$');
    assert.deepEqual(rule.selection.exclude, []);
    assert.equal(rule.selection.semver, undefined);
    assert.deepEqual(rule.destinations, [{ registry: 'quay.io', repository: 'ruohe/kube-rbac-proxy' }]);
  });

  it('a regex may hold "/" and ":"', () => {
    const rule = one({ 'localhost:5000/a/b:/^(a|b):x\\/y/': 'localhost:5000/c/d' });
    assert.deepEqual(rule.source, { registry: 'localhost:5000', repository: 'a/b' });
    assert.equal(rule.selection.kind === 'filter' && rule.selection.include[0]?.source, '^(a|b):x\\/y');
  });

  it('names an invalid regex', () => {
    assertProblem({ 'quay.io/a/b:/(v1/': 'quay.io/c/d' }, 'quay.io/a/b:/(v1/', [
      'tag regex "(v1" is not a valid RE2 regular expression',
    ]);
  });

  it('rejects a destination tag, an unclosed regex, a regex in the destination', () => {
    assertProblem({ 'quay.io/a/b:/^v1/': 'quay.io/c/d:v1' }, 'quay.io/a/b:/^v1/', ['must not have a tag', '(rule 6)']);
    assertProblem({ 'quay.io/a/b:/^v1': 'quay.io/c/d' }, 'quay.io/a/b:/^v1', ['without its closing "/"']);
    assertProblem({ 'quay.io/a/b:/^v1/': 'quay.io/c/d:/x/' }, 'quay.io/a/b:/^v1/', ['cannot select tags by a regex']);
  });
});

describe('images.json: digests', () => {
  it('repo@sha256:… copies one manifest; the destination may have a tag or not', () => {
    const rules = parse({
      [`quay.io/a/b@${DIGEST}`]: ['quay.io/c/d', 'quay.io/c/e:pinned'],
    });
    assert.deepEqual(rules[0]?.selection, { kind: 'digest', digest: DIGEST });
    assert.deepEqual(rules[0]?.destinations, [
      { registry: 'quay.io', repository: 'c/d' },
      { registry: 'quay.io', repository: 'c/e', tags: ['pinned'] },
    ]);
  });

  it('repo:tag@sha256:… copies the digest and writes the tag', () => {
    const rule = one({ [`quay.io/a/b:v1@${DIGEST}`]: ['quay.io/c/d', 'quay.io/c/e:other', ''] }, DEFAULTS);
    assert.deepEqual(rule.selection, { kind: 'digest', digest: DIGEST });
    assert.deepEqual(rule.destinations, [
      { registry: 'quay.io', repository: 'c/d', tags: ['v1'] },
      { registry: 'quay.io', repository: 'c/e', tags: ['other'] },
      { registry: SWR, repository: 'test/b', tags: ['v1'] },
    ]);
  });

  it('rejects a malformed digest', () => {
    assertProblem({ 'quay.io/a/b@sha256:1234': 'quay.io/c/d' }, 'quay.io/a/b@sha256:1234', [
      'invalid digest',
      '64 lowercase hex',
      '(rule 2)',
    ]);
  });
});

describe('images.json: ${VAR} and $VAR', () => {
  const env = { SRC: 'quay.io/coreos', DST: SWR, NS: 'test' };

  it('expands in keys and destinations', () => {
    const rule = one({ '${SRC}/etcd:1.0': '$DST/${NS}/etcd' }, { env });
    assert.equal(rule.key, '${SRC}/etcd:1.0');
    assert.deepEqual(rule.source, { registry: 'quay.io', repository: 'coreos/etcd' });
    assert.deepEqual(rule.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
  });

  it('expands inside destination lists', () => {
    const rule = one({ 'quay.io/a/b': ['${DST}/x/b', '${DST}/y/b'] }, { env });
    assert.deepEqual(
      rule.destinations.map((d) => d.repository),
      ['x/b', 'y/b'],
    );
  });

  it('names an unset variable and the key', () => {
    assertProblem(
      { '${MISSING_SRC}/etcd': `${SWR}/test/etcd` },
      '${MISSING_SRC}/etcd',
      ['environment variable MISSING_SRC is not set'],
      { env },
    );
    assertProblem(
      { 'quay.io/a/b': '${DST}/$MISSING_NS/b' },
      'quay.io/a/b',
      ['destination: environment variable MISSING_NS is not set'],
      { env },
    );
  });

  it('a destination expanding to "" is the default (rule 8)', () => {
    assert.deepEqual(one({ 'quay.io/a/b': '$EMPTY' }, { ...DEFAULTS, env: { EMPTY: '' } }).destinations, [
      { registry: SWR, repository: 'test/b' },
    ]);
  });
});

describe('images.json: YAML', () => {
  it('reads image-syncer YAML with fan-out lists, regexes and comments', () => {
    const yaml = [
      '# image-syncer images file',
      'quay.io/coreos/kube-rbac-proxy: quay.io/ruohe/kube-rbac-proxy',
      'quay.io/coreos/kube-rbac-proxy:v1.0: quay.io/ruohe/kube-rbac-proxy-one',
      'quay.io/coreos/kube-rbac-proxy:v1.1:',
      '  - quay.io/ruohe/kube-rbac-proxy1',
      '  - quay.io/ruohe/kube-rbac-proxy2',
      'quay.io/coreos/kube-rbac-proxy:/a+/: quay.io/ruohe/kube-rbac-proxy-re',
      "'nginx:1.27': ''",
      '',
    ].join('\n');
    const rules = parseImagesFile(yaml, 'images.yaml', DEFAULTS);
    assert.deepEqual(
      rules.map((r) => [r.key, r.selection.kind, r.destinations.map((d) => `${d.registry}/${d.repository}`)]),
      [
        ['quay.io/coreos/kube-rbac-proxy', 'all', ['quay.io/ruohe/kube-rbac-proxy']],
        ['quay.io/coreos/kube-rbac-proxy:v1.0', 'tags', ['quay.io/ruohe/kube-rbac-proxy-one']],
        [
          'quay.io/coreos/kube-rbac-proxy:v1.1',
          'tags',
          ['quay.io/ruohe/kube-rbac-proxy1', 'quay.io/ruohe/kube-rbac-proxy2'],
        ],
        ['quay.io/coreos/kube-rbac-proxy:/a+/', 'filter', ['quay.io/ruohe/kube-rbac-proxy-re']],
        ['nginx:1.27', 'tags', [`${SWR}/test/nginx`]],
      ],
    );
    assert.ok(rules.every((r) => r.file === 'images.yaml'));
  });
});

describe('images.json: a destination written twice', () => {
  it('two rules writing the same tag: names both keys', () => {
    const problem = assertProblem(
      { 'quay.io/a/etcd:1.0': `${SWR}/test/etcd`, 'ghcr.io/b/etcd:1.0': `${SWR}/test/etcd` },
      'ghcr.io/b/etcd:1.0',
      [`destination "${SWR}/test/etcd:1.0" is also written by key "quay.io/a/etcd:1.0"`],
    );
    assert.ok(problem.message.includes('key "ghcr.io/b/etcd:1.0"'));
  });

  it("a rename onto another rule's tag, and the same source written twice", () => {
    assertProblem(
      { 'quay.io/a/etcd:1.0': `${SWR}/test/etcd`, 'quay.io/a/etcd:2.0': `${SWR}/test/etcd:1.0` },
      'quay.io/a/etcd:2.0',
      ['is also written by key "quay.io/a/etcd:1.0"'],
    );
    assertProblem(
      { 'nginx:1.27': `${SWR}/test/nginx`, 'docker.io/library/nginx:1.27': `${SWR}/test/nginx` },
      'docker.io/library/nginx:1.27',
      ['is also written by key "nginx:1.27"'],
    );
  });

  it('all tags of two sources into one repository', () => {
    assertProblem({ 'quay.io/a/etcd': `${SWR}/test/etcd`, 'ghcr.io/b/etcd': `${SWR}/test/etcd` }, 'ghcr.io/b/etcd', [
      'also receives the tags of "quay.io/a/etcd" from key "quay.io/a/etcd"',
    ]);
  });

  it('the same destination twice in one list, and a destination that is its source', () => {
    assertProblem({ 'quay.io/a/etcd:1': [`${SWR}/t/etcd`, `${SWR}/t/etcd:1`] }, 'quay.io/a/etcd:1', [
      'is listed twice',
    ]);
    assertProblem({ 'quay.io/a/etcd': 'quay.io/a/etcd' }, 'quay.io/a/etcd', ['is the source repository itself']);
    assertProblem({ 'quay.io/a/etcd:1': 'quay.io/a/etcd' }, 'quay.io/a/etcd:1', ['is the source itself']);
  });

  it('allows retagging within a repository, several regexes of one source, and distinct tags', () => {
    assert.equal(parse({ 'quay.io/a/etcd:1': 'quay.io/a/etcd:stable' }).length, 1);
    assert.equal(parse({ 'quay.io/a/etcd:/^v1/': `${SWR}/t/etcd`, 'quay.io/a/etcd:/^v2/': `${SWR}/t/etcd` }).length, 2);
    assert.equal(parse({ 'quay.io/a/etcd:1': `${SWR}/t/etcd`, 'ghcr.io/b/etcd:2': `${SWR}/t/etcd` }).length, 2);
  });
});

describe('images.json: every problem at once', () => {
  it('reports all problems of a file, in file order', () => {
    const found = problems({
      'quay.io': `${SWR}/test/x`,
      'quay.io/coreos/etcd': `${SWR}/test/etcd:1`,
      'quay.io/ok/fine:1': `${SWR}/test/fine`,
      '': `${SWR}/test/y`,
      'quay.io/coreos/flannel:1': 'flannel',
      'quay.io/coreos/dns:1': '',
      'quay.io/Bad/name': `${SWR}/test/name`,
    });
    assert.deepEqual(
      found.map((p) => [p.key, /\(rule (\d)/.exec(p.message)?.[1]]),
      [
        ['quay.io', '1'],
        ['quay.io/coreos/etcd', '6'],
        ['', '4'],
        ['quay.io/coreos/flannel:1', '3'],
        ['quay.io/coreos/dns:1', '8'],
        ['quay.io/Bad/name', '2'],
      ],
    );
  });
});

describe('images.json: the file itself', () => {
  it('a JSON syntax error gives line and column, without quoting the text', () => {
    const problem = assertProblem('{\n  "quay.io/a/b": "swr.example.com/secret-ns/b",,\n}\n', undefined, [
      /not valid JSON or YAML at line 2, column \d+/,
    ]);
    assert.ok(!problem.message.includes('secret-ns'), problem.message);
  });

  it('a YAML syntax error gives line and column', () => {
    assertProblem('quay.io/a/b: swr.example.com/n/b\n  bad: [\n', undefined, [/at line \d+, column \d+/]);
  });

  it('a key written twice is an error with its position, in JSON and in YAML', () => {
    assertProblem('{\n  "quay.io/a/b": "swr.example.com/n/b",\n  "quay.io/a/b": "swr.example.com/n/c"\n}', undefined, [
      'a key is written twice',
      'line 3, column 3',
    ]);
    assertProblem('quay.io/a/b: swr.example.com/n/b\nquay.io/a/b: swr.example.com/n/c\n', undefined, [
      'a key is written twice',
      'line 2, column 1',
    ]);
  });

  it('an empty map, an empty file, a comment-only file: no images', () => {
    for (const text of ['{}', '', '# nothing\n']) assertProblem(text, undefined, ['no images']);
  });

  it('rejects a document that is not a map', () => {
    assertProblem('["quay.io/a/b"]', undefined, ['must be an object mapping each source']);
    assertProblem('"quay.io/a/b"', undefined, ['must be an object']);
  });

  it("recognizes image-syncer's legacy --config file", () => {
    assertProblem({ auth: {}, images: { 'quay.io/a/b': 'quay.io/c/d' } }, undefined, ['legacy --config']);
  });

  describe('loadImagesFile', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'swr-images-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads a file', async () => {
      const file = join(dir, 'images.json');
      await writeFile(file, JSON.stringify({ 'quay.io/coreos/etcd:1.0.0': '' }));
      const rules = await loadImagesFile(file, DEFAULTS);
      assert.equal(rules[0]?.file, file);
      assert.deepEqual(rules[0]?.destinations, [{ registry: SWR, repository: 'test/etcd' }]);
    });

    it('reads a mirror spec', async () => {
      const file = join(dir, 'swr-mirror.yaml');
      await writeFile(file, 'version: 1\nimages:\n  - source: nginx:1.27\n    destination: swr.example.com/n/nginx\n');
      const rules = await loadImagesFile(file, NO_ENV);
      assert.deepEqual(rules[0]?.selection, { kind: 'tags', tags: ['1.27'] });
      assert.equal(rules[0]?.key, 'images[0]');
    });

    it('a missing file: ERR_CONFIG_READ naming the file', async () => {
      const file = join(dir, 'nope.json');
      await assert.rejects(loadImagesFile(file, NO_ENV), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'ERR_CONFIG_READ');
        assert.equal(e.file, file);
        assert.match(e.message, /file not found/);
        assert.ok(e.message.includes(file));
        return true;
      });
    });

    it('a directory: ERR_CONFIG_READ', async () => {
      await assert.rejects(
        loadImagesFile(dir, NO_ENV),
        (e: unknown) => e instanceof ConfigError && e.code === 'ERR_CONFIG_READ',
      );
    });
  });
});
