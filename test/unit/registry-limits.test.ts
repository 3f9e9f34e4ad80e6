import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { serializeMirrorSpec } from '../../constructs/mirror-spec.js';
import { loadImagesFileWithLimits } from '../../src/config/images-file.js';
import { MirrorSpecFileSchema, parseMirrorSpec } from '../../src/config/mirror-spec.js';
import {
  mergeRegistryLimits,
  parseByteRate,
  parseRegistryLimits,
  parseRequestRate,
} from '../../src/config/registry-limits.js';
import { ConfigErrors } from '../../src/errors.js';

describe('--bandwidth units', () => {
  test('k, M, G are powers of 1000; Ki, Mi, Gi powers of 1024; B and /s optional; either case for the prefix', () => {
    const cases: Array<[string | number, number]> = [
      ['1000', 1000],
      ['512k', 512_000],
      ['512K', 512_000],
      ['10M', 10_000_000],
      ['10m', 10_000_000],
      ['20MB', 20_000_000],
      ['20MB/s', 20_000_000],
      ['1.5MiB', 1_572_864],
      ['2Gi', 2 * 2 ** 30],
      ['1G', 1e9],
      ['64KiB/s', 65_536],
      ['.5M', 500_000],
      [' 3 M ', 3_000_000],
      ['100B', 100],
      [2_000_000, 2_000_000],
    ];
    for (const [text, bytes] of cases) assert.equal(parseByteRate(text), bytes, String(text));
  });

  test('bits, zero, negative, exponent and unknown units are refused', () => {
    for (const bad of [
      '',
      'fast',
      '10Mb',
      '10mb',
      '1.5mib',
      '8b',
      '0',
      '0M',
      '0.5',
      '-5M',
      '1e6',
      '10X',
      '10 M B',
      'M',
      0,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]) {
      assert.equal(parseByteRate(bad), undefined, String(bad));
    }
  });
});

describe('--rate', () => {
  test('positive numbers, fractions allowed', () => {
    assert.equal(parseRequestRate('10'), 10);
    assert.equal(parseRequestRate('0.5'), 0.5);
    assert.equal(parseRequestRate(2), 2);
    for (const bad of ['0', '-1', 'abc', '1e3', '', '5/s', 0, -2])
      assert.equal(parseRequestRate(bad), undefined, String(bad));
  });
});

describe('mirror spec "registries"', () => {
  const images = [{ source: 'nginx:1.27', destination: 'swr.example.com/n/nginx' }];

  test('optional: a spec without it (as the constructs write it) still parses and matches the schema', () => {
    const text = serializeMirrorSpec({
      version: 1,
      stack: 's',
      images: [{ id: 'a', source: 'docker.io/library/nginx', destination: 'swr.example.com/n/nginx', tags: ['1.27'] }],
    });
    assert.equal(MirrorSpecFileSchema.safeParse(JSON.parse(text)).success, true);
    assert.equal(parseMirrorSpec(JSON.parse(text), 'f.json', { env: {} }).length, 1);
    assert.deepEqual(parseRegistryLimits(undefined).limits, new Map());
  });

  test('per-registry rate and bandwidth; Docker Hub aliases fold into docker.io; ${VAR} keys expand', () => {
    const registries = {
      'index.docker.io': { rate: 2, bandwidth: '20M' },
      '${SWR}': { bandwidth: 50_000_000 },
      'localhost:5000': { rate: 0.5 },
    };
    const document = { version: 1, images, registries };
    assert.equal(MirrorSpecFileSchema.safeParse(document).success, true);
    assert.equal(parseMirrorSpec(document, 'f.json', { env: { SWR: 'swr.cn-north-4.myhuaweicloud.com' } }).length, 1);
    const { limits, problems } = parseRegistryLimits(registries, { SWR: 'swr.cn-north-4.myhuaweicloud.com' });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      [...limits],
      [
        ['docker.io', { rate: 2, bandwidth: 20_000_000 }],
        ['swr.cn-north-4.myhuaweicloud.com', { bandwidth: 50_000_000 }],
        ['localhost:5000', { rate: 0.5 }],
      ],
    );
  });

  test('every problem is reported, naming the file, the key and the rule', () => {
    const registries = {
      'docker.io': { rate: 0, bandwidth: '10Mb' },
      'registry-1.docker.io': { rate: 1 },
      'quay.io/coreos': { rate: 1 },
      'ghcr.io': { rate: '5', burst: 3 },
      'gcr.io': 'fast',
      '${NOPE}': { rate: 1 },
    };
    let caught: unknown;
    try {
      parseMirrorSpec({ version: 1, images, registries }, 'swr-mirror.json', { env: {} });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigErrors);
    const messages = caught.problems.map((p) => p.message);
    assert.deepEqual(messages, [
      'swr-mirror.json: "registries.docker.io.rate" must be a positive number of requests per second, e.g. 10 or 0.5; found 0',
      'swr-mirror.json: "registries.docker.io.bandwidth" must be a number of bytes per second, optionally with a unit: k, M, G (powers of 1000) or Ki, Mi, Gi (powers of 1024), e.g. 20M, 512k or 1.5MiB; found "10Mb"',
      'swr-mirror.json: "registries" key "registry-1.docker.io" names the same registry as key "docker.io" (docker.io)',
      'swr-mirror.json: "registries" key "quay.io/coreos" must be a registry host[:port], e.g. docker.io or swr.cn-north-4.myhuaweicloud.com',
      'swr-mirror.json: "registries.ghcr.io" has unknown field "burst" (allowed: rate, bandwidth)',
      'swr-mirror.json: "registries.ghcr.io.rate" must be a positive number of requests per second, e.g. 10 or 0.5; found "5"',
      'swr-mirror.json: "registries.gcr.io" must be an object { "rate"?, "bandwidth"? }',
      'swr-mirror.json: "registries" key "${NOPE}": environment variable NOPE is not set',
    ]);
  });

  test('"registries" that is not an object', () => {
    assert.throws(
      () => parseMirrorSpec({ version: 1, images, registries: [] }, 'f.json', { env: {} }),
      /"registries" must be an object mapping a registry host/,
    );
  });

  test('the limits of several files merge: the lower value of each field applies', () => {
    const merged = mergeRegistryLimits([
      new Map([
        ['docker.io', { rate: 5 }],
        ['quay.io', { bandwidth: 100 }],
      ]),
      new Map([['docker.io', { rate: 2, bandwidth: 1000 }]]),
    ]);
    assert.deepEqual(
      [...merged],
      [
        ['docker.io', { rate: 2, bandwidth: 1000 }],
        ['quay.io', { bandwidth: 100 }],
      ],
    );
  });

  test('loadImagesFileWithLimits: the rules and the limits of a YAML spec; an images.json has none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swr-sync-limits-'));
    const specFile = join(dir, 'swr-mirror.yaml');
    await writeFile(
      specFile,
      [
        'version: 1',
        'images:',
        '  - source: nginx:1.27',
        '    destination: swr.example.com/n/nginx',
        'registries:',
        '  docker.io: { rate: 2, bandwidth: 1.5MiB }',
        '',
      ].join('\n'),
    );
    const spec = await loadImagesFileWithLimits(specFile, { env: {} });
    assert.equal(spec.rules.length, 1);
    assert.deepEqual([...spec.limits], [['docker.io', { rate: 2, bandwidth: 1_572_864 }]]);
    const imagesFile = join(dir, 'images.json');
    await writeFile(imagesFile, JSON.stringify({ 'nginx:1.27': 'swr.example.com/n/nginx' }));
    const plain = await loadImagesFileWithLimits(imagesFile, { env: {} });
    assert.equal(plain.rules.length, 1);
    assert.equal(plain.limits.size, 0);
  });
});
