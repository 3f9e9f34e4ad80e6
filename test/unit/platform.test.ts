import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePlatforms, platformMatches } from '../../src/oci/platform.js';

describe('platforms', () => {
  test('parse and match with arm64 variant normalisation', () => {
    const [amd, arm] = parsePlatforms('linux/amd64, linux/arm64');
    assert.ok(platformMatches(amd!, { os: 'linux', architecture: 'amd64' }));
    assert.ok(platformMatches(arm!, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
    assert.ok(platformMatches(parsePlatforms('linux/arm64/v8')[0]!, { os: 'linux', architecture: 'arm64' }));
    assert.ok(
      !platformMatches(parsePlatforms('linux/arm/v7')[0]!, { os: 'linux', architecture: 'arm', variant: 'v6' }),
    );
  });
  test('bad values name the flag', () => {
    assert.throws(() => parsePlatforms('linux'), /--platform "linux" is not os\/arch/);
    assert.throws(() => parsePlatforms(','), /--platform is empty/);
  });
});
