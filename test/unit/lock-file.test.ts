import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeLockFiles, updateLock, type LockFile } from '../../src/plan/lock-file.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const entry = (digest: string, platforms: string[]) => ({ source: 'quay.io/acme/app:1', sourceDigest: digest, digest, platforms });
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
      () => mergeLockFiles([
        { file: 'shard-1.json', lock: lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64']) }) },
        { file: 'shard-2.json', lock: lock({ 'swr/mirror/app:1': entry(B, ['linux/amd64']) }) },
      ]),
      (e: Error) => e.message === `shard-2.json: "swr/mirror/app:1" has digest ${B} here but ${A} in shard-1.json: the shards disagree`,
    );
  });

  test('a run keeps recorded platforms for an unchanged image that reports none, and records those it reports', () => {
    const previous = lock({ 'swr/mirror/app:1': entry(A, ['linux/amd64', 'linux/arm64']) });
    const unchanged = { source: 'quay.io/acme/app:1', destination: 'swr/mirror/app:1', sourceDigest: A, digest: A, platforms: [], status: 'unchanged' as const };
    assert.deepEqual(updateLock(previous, [unchanged], () => false).images['swr/mirror/app:1']!.platforms, ['linux/amd64', 'linux/arm64']);
    const read = { ...unchanged, destination: 'swr/mirror/app:2', platforms: ['linux/amd64'] };
    assert.deepEqual(updateLock(previous, [read], () => false).images['swr/mirror/app:2']!.platforms, ['linux/amd64']);
  });
});
