import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidReferenceError } from '../../src/errors.js';
import { parseReference } from '../../src/oci/reference.js';

const HEX = 'a'.repeat(64);

describe('parseReference', () => {
  const cases: Array<[string, string, string, string | undefined, string | undefined]> = [
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['index.docker.io/library/nginx:1', 'docker.io', 'library/nginx', '1', undefined],
    ['registry-1.docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['localhost/app', 'localhost', 'app', 'latest', undefined],
    ['localhost:5000/a/b/c:v1', 'localhost:5000', 'a/b/c', 'v1', undefined],
    ['127.0.0.1:5000/ns/app', '127.0.0.1:5000', 'ns/app', 'latest', undefined],
    ['swr.cn-north-4.myhuaweicloud.com/org/app:1.0', 'swr.cn-north-4.myhuaweicloud.com', 'org/app', '1.0', undefined],
    [`quay.io/coreos/etcd@sha256:${HEX}`, 'quay.io', 'coreos/etcd', undefined, `sha256:${HEX}`],
    [`quay.io/coreos/etcd:v3@sha256:${HEX}`, 'quay.io', 'coreos/etcd', 'v3', `sha256:${HEX}`],
    ['[::1]:5000/app:x', '[::1]:5000', 'app', 'x', undefined],
    ['REG.example.com/a__b/c-d.e_f', 'reg.example.com', 'a__b/c-d.e_f', 'latest', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    test(input, () => {
      const ref = parseReference(input);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
    });
  }

  test('defaultTag: false keeps the tag undefined', () => {
    assert.equal(parseReference('reg.io/a', { defaultTag: false }).tag, undefined);
    assert.equal(parseReference('reg.io/a', { defaultTag: false }).toString(), 'reg.io/a');
  });

  test('toString round-trips the normalized form', () => {
    assert.equal(parseReference('nginx').toString(), 'docker.io/library/nginx:latest');
    assert.equal(parseReference(`r.io/a:1@sha256:${HEX}`).toString(), `r.io/a:1@sha256:${HEX}`);
  });

  const invalid: Array<[string, RegExp]> = [
    ['', /empty/],
    ['reg.io/Upper/app', /lowercase/],
    ['reg.io/a//b', /must not be empty/],
    ['reg.io/a/', /must not be empty/],
    ['reg.io/a:-bad', /tag/],
    [`reg.io/a:${'x'.repeat(129)}`, /at most 128/],
    ['reg.io/a@md5:abc', /not supported/],
    ['reg.io/a@sha256:abc', /exactly 64/],
    [`reg.io/a@sha256:${'A'.repeat(64)}`, /lowercase hex/],
    ['https://reg.io/a', /URL scheme/],
    ['reg.io/a b', /whitespace/],
    ['reg.io/a..b', /path component/],
    [`reg.io/${'a'.repeat(260)}`, /at most 255/],
    ['-bad.io/x', /registry host/],
  ];
  for (const [input, rule] of invalid) {
    test(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
      assert.throws(
        () => parseReference(input),
        (e: unknown) => {
          assert.ok(e instanceof InvalidReferenceError);
          assert.equal(e.code, 'ERR_INVALID_REFERENCE');
          assert.match(e.message, rule);
          assert.ok(e.isInputError);
          return true;
        },
      );
    });
  }
});
