import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import {
  mergeLockFiles,
  parseLockFile,
  serializeLockFile,
  updateLock,
  type LockFile,
  type LockUpdate,
} from '../../src/plan/lock-file.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const entry = (digest: string, platforms: string[]) => ({
  source: 'quay.io/acme/app:1',
  sourceDigest: digest,
  digest,
  platforms,
});
const lock = (images: LockFile['images']): LockFile => ({ version: 1, images });

describe('lock file entries agree with themselves', () => {
  test('lock merge: the same digest recorded with and without platforms is one image, its platforms kept', () => {
    const merged = mergeLockFiles([
      { file: 'shard-1.json', lock: lock({ 'swr/mirror/app:1': entry(A, []) }) },
      { file: 'shard-2.json', lock: lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64']) }) },
    ]);
    assert.deepEqual(merged.images['swr/mirror/app:1']!.platforms, ['linux/amd64']);
    const other = mergeLockFiles([
      { file: 'shard-1.json', lock: lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64']) }) },
      { file: 'shard-2.json', lock: lock({ 'swr/mirror/app:1': entry(A, []) }) },
    ]);
    assert.deepEqual(other.images['swr/mirror/app:1']!.platforms, ['linux/amd64']);
  });

  test('lock merge: different digests are an error naming the field, both values and both files', () => {
    assert.throws(
      () =>
        mergeLockFiles([
          { file: 'shard-1.json', lock: lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64']) }) },
          { file: 'shard-2.json', lock: lock({ 'swr/mirror/app:1': entry(B, ['linux/amd64']) }) },
        ]),
      (e: Error) =>
        e.message ===
        `shard-2.json: "swr/mirror/app:1" has digest ${B} here but ${A} in shard-1.json: the shards disagree`,
    );
  });

  test('a run keeps recorded platforms for an unchanged image that reports none, and records those it reports', () => {
    const previous = lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64', 'linux/arm64']) });
    const unchanged = {
      source: 'quay.io/acme/app:1',
      destination: 'swr/mirror/app:1',
      sourceDigest: A,
      digest: A,
      platforms: [],
      status: 'unchanged' as const,
    };
    assert.deepEqual(updateLock(previous, [unchanged], () => false).images['swr/mirror/app:1']!.platforms, [
      'linux/amd64',
      'linux/arm64',
    ]);
    const read = { ...unchanged, destination: 'swr/mirror/app:2', platforms: ['linux/amd64'] };
    assert.deepEqual(updateLock(previous, [read], () => false).images['swr/mirror/app:2']!.platforms, ['linux/amd64']);
  });
});

describe('lock file format and updates (plan/lock-file.ts)', () => {
  const C = `sha256:${'c'.repeat(64)}`;
  const nginx = (digest: string, platforms: string[] = []) => ({
    source: 'docker.io/library/nginx:1.27',
    sourceDigest: digest,
    digest,
    platforms,
  });
  const result = (over: Partial<LockUpdate>): LockUpdate => ({
    source: 'docker.io/library/nginx:1.27',
    destination: 'r.example/ns/nginx:1.27',
    status: 'copied',
    platforms: [],
    ...over,
  });

  test('serialized with sorted keys at every level, two-space indent and a trailing newline', () => {
    const sorted: LockFile = {
      version: 1,
      images: {
        'r.example/b:1': nginx(B),
        'r.example/a:1': { platforms: [], digest: A, sourceDigest: A, source: 's/a:1' },
      },
    };
    const text = serializeLockFile(sorted);
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.indexOf('"r.example/a:1"') < text.indexOf('"r.example/b:1"'));
    assert.ok(
      text.indexOf('"digest"') < text.indexOf('"platforms"') && text.indexOf('"platforms"') < text.indexOf('"source"'),
    );
    assert.ok(text.includes('\n  "images": {\n    "r.example/a:1": {\n      "digest"'));
    assert.deepEqual(parseLockFile(text, 'lock.json'), sorted);
  });

  test('a file that is not a lock names the file, the key and the rule', () => {
    assert.throws(
      () => parseLockFile('{', 'lock.json'),
      (e: unknown) => e instanceof ConfigError && e.file === 'lock.json' && /not valid JSON/.test(e.message),
    );
    assert.throws(
      () =>
        parseLockFile(
          JSON.stringify({ version: 1, images: { 'r.example/a:1': { ...nginx(A), digest: 'latest' } } }),
          'lock.json',
        ),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'images.r.example/a:1.digest' &&
        /not a swr-mirror lock file: a digest such as sha256:<hex>/.test(e.message),
    );
    assert.throws(
      () =>
        parseLockFile(
          JSON.stringify({ version: 1, images: { 'r.example/a:1': { ...nginx(A), platforms: 'linux/amd64' } } }),
          'lock.json',
        ),
      (e: unknown) =>
        e instanceof ConfigError && e.key === 'images.r.example/a:1.platforms' && /must be an array/.test(e.message),
    );
  });

  test('after a run: a copied image is set, a failed one keeps its old entry, a skipped one is not recorded, stale entries are dropped', () => {
    const previous: LockFile = {
      version: 1,
      images: {
        'r.example/ns/nginx:1.27': nginx(A, ['linux/amd64']),
        'r.example/ns/gone:1': nginx(C),
        'r.example/ns/keep:1': nginx(C),
      },
    };
    const next = updateLock(
      previous,
      [
        result({ sourceDigest: B, digest: B }),
        result({ destination: 'r.example/ns/keep:1', status: 'failed' }),
        result({ destination: 'r.example/ns/skip:1', status: 'skipped', sourceDigest: B, digest: B }),
      ],
      (destination) => destination.includes('/gone:'),
    );
    assert.deepEqual(Object.keys(next.images).sort(), ['r.example/ns/keep:1', 'r.example/ns/nginx:1.27']);
    assert.deepEqual(next.images['r.example/ns/nginx:1.27'], {
      source: 'docker.io/library/nginx:1.27',
      sourceDigest: B,
      digest: B,
      platforms: [],
    });
    assert.deepEqual(next.images['r.example/ns/keep:1'], nginx(C));
  });
});
