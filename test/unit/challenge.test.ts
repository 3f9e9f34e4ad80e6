import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseChallenge } from '../../src/client/challenge.js';

describe('parseChallenge', () => {
  test('Bearer with realm, service and scope (distribution token.md)', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
      {
        scheme: 'bearer',
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:samalba/my-app:pull,push',
      },
    );
  });
  test('Basic realm', () => {
    assert.deepEqual(parseChallenge('Basic realm="test"'), { scheme: 'basic', realm: 'test' });
  });
  test('unquoted values, spaces and escaped quotes', () => {
    assert.deepEqual(parseChallenge('bearer  realm=https://h/t , service="a \\"b\\""'), {
      scheme: 'bearer',
      realm: 'https://h/t',
      service: 'a "b"',
    });
  });
  test('first understood challenge of several, and of several headers', () => {
    assert.equal(parseChallenge('Negotiate abc, Basic realm="r"')?.scheme, 'basic');
    assert.equal(parseChallenge(['Digest realm="x"', 'Bearer realm="y"'])?.realm, 'y');
  });
  test('nothing understood', () => {
    assert.equal(parseChallenge(undefined), undefined);
    assert.equal(parseChallenge('Negotiate'), undefined);
  });
});
