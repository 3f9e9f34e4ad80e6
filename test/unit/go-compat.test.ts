import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthJson } from '../../src/config/auth-json.js';
import { lenientImagesMap, parseImagesMap, rule8Path } from '../../src/config/images-file.js';
import { parseGoDocument } from '../../src/config/parse-text.js';
import type { ImageResult } from '../../src/engine/image-result.js';
import { parsePlatforms, platformMatches, platformOfImageConfig, platformsFromOsArch } from '../../src/oci/platform.js';
import { successImages } from '../../src/results/success-images.js';

/** Reading files as image-syncer and image-migrator (Go: encoding/json, go-yaml v2) read them (docs/migrating.md). */

describe('parseGoDocument: encoding/json and go-yaml v2', () => {
  it('YAML 1.1 booleans, numbers kept as text in `raw`', () => {
    const doc = parseGoDocument(
      'r:\n  insecure: yes\n  password: 0755\n  username: 123456\n  other: off\n',
      'auth.yaml',
    );
    assert.deepEqual(doc.value, { r: { insecure: true, password: 493, username: 123456, other: false } });
    assert.deepEqual(doc.raw, { r: { insecure: 'yes', password: '0755', username: '123456', other: 'off' } });
    assert.deepEqual(doc.warnings, []);
  });

  it('a key written twice keeps the last value, with a warning naming the line (JSON and YAML)', () => {
    const json = parseGoDocument('{ "a": 1,\n "a": 2 }', 'images.json');
    assert.deepEqual(json.value, { a: 2 });
    assert.match(
      json.warnings[0] ?? '',
      /images\.json: a key is written twice in one mapping at line 2.*the last one is used/,
    );
    const yaml = parseGoDocument('a: 1\na: 2\n', 'images.yaml');
    assert.deepEqual(yaml.value, { a: 2 });
    assert.equal(yaml.warnings.length, 1);
  });

  it('a syntax error is still an error', () => {
    assert.throws(() => parseGoDocument('a: [b\n  c: d\n', 'x.yaml'), /x\.yaml: not valid JSON or YAML at line 1/);
  });
});

describe('auth.json outside --strict', () => {
  const SWR = 'swr.cn-north-4.myhuaweicloud.com';

  it('insecure: yes, an unquoted numeric password as written, email ignored with a warning', async () => {
    const text = `${SWR}:\n  username: cn-north-4@AK\n  password: 0755\n  email: bot@example.com\n  insecure: on\n`;
    const source = parseAuthJson(text, 'auth.yaml', {}, { strict: false });
    const access = await source.lookup(SWR, 'ns/app');
    assert.deepEqual(access?.credential, { username: 'cn-north-4@AK', password: '0755' });
    assert.equal(access?.insecure, true);
    assert.deepEqual(source.warnings, [
      `auth.yaml: key "${SWR}": unknown field "email" ignored (allowed: username, password, insecure)`,
    ]);
  });

  it('--strict (the default of parseAuthJson) keeps refusing them', () => {
    assert.throws(
      () => parseAuthJson(JSON.stringify({ [SWR]: { username: 'u', password: 'p', email: 'x' } }), 'auth.json', {}),
      /unknown field "email"/,
    );
  });

  it('a value of the wrong type is still an error; a JSON number is no string (encoding/json refuses it too)', () => {
    assert.throws(
      () => parseAuthJson(`${SWR}:\n  insecure: maybe\n`, 'auth.yaml', {}, { strict: false }),
      /"insecure"/,
    );
    assert.throws(
      () =>
        parseAuthJson(JSON.stringify({ [SWR]: { username: 'u', password: 42 } }), 'auth.json', {}, { strict: false }),
      /"password" must be a string/,
    );
  });
});

describe('images.json outside --strict', () => {
  const D = 'swr.example.com/ns';

  it('an invalid rule is returned with its problems; the others are rules', () => {
    const { rules, invalid } = lenientImagesMap(
      { 'quay.io/a/b': `${D}/b:x`, 'quay.io/a/c:1': `${D}/c`, '': `${D}/d` },
      'images.json',
    );
    assert.deepEqual(
      rules.map((r) => r.key),
      ['quay.io/a/c:1'],
    );
    assert.deepEqual(
      invalid.map((i) => i.key),
      ['quay.io/a/b', ''],
    );
    assert.match(invalid[0]!.problems[0]!.message, /images\.json, key "quay\.io\/a\/b": .*\(rule 6/);
  });

  it('the same copy by two rules, or twice in one list, is no conflict; two sources into one tag still are', () => {
    const same = {
      'quay.io/a/b:v1': `${D}/b`,
      'quay.io/a/b:v1,v2': `${D}/b`,
      'quay.io/a/b': `${D}/b`,
      'quay.io/a/b:v3': [`${D}/x`, `${D}/x`],
    };
    assert.equal(lenientImagesMap(same, 'images.json').invalid.length, 0);
    assert.throws(() => parseImagesMap(same, 'images.json'), /is also written by key|is listed twice/);
    const clash = lenientImagesMap({ 'quay.io/a/b:v1': `${D}/x:v1`, 'quay.io/a/c:v1': `${D}/x:v1` }, 'images.json');
    assert.deepEqual(
      clash.invalid.map((i) => i.key),
      ['quay.io/a/c:v1'],
    );
  });

  it('problems of the whole file still throw', () => {
    assert.throws(() => lenientImagesMap([], 'images.json'), /must be an object/);
    assert.throws(() => lenientImagesMap({}, 'images.json'), /no images/);
  });

  it('rule 8 keeps the source path after its namespace', () => {
    assert.equal(
      rule8Path('knative-releases/github.com/knative/build/cmd/creds-init'),
      'github.com/knative/build/cmd/creds-init',
    );
    assert.equal(rule8Path('coreos/etcd'), 'etcd');
    assert.equal(rule8Path('etcd'), 'etcd');
  });
});

describe('platform filters as image-syncer --os / --arch', () => {
  const amd = { os: 'linux', architecture: 'amd64' };
  const arm = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const win = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1879' };

  it('every pairing of the two lists; a list left out matches any', () => {
    assert.deepEqual(platformsFromOsArch(['linux'], ['amd64', 'arm64:v8']), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    assert.deepEqual(platformsFromOsArch(['linux,windows:10.0.17763.1879'], undefined), [
      { os: 'linux', architecture: '*' },
      { os: 'windows', 'os.version': '10.0.17763.1879', architecture: '*' },
    ]);
    assert.equal(platformsFromOsArch(undefined, []), undefined);
    const armOnly = platformsFromOsArch(undefined, ['arm64'])!;
    assert.ok(armOnly.some((w) => platformMatches(w, arm)));
    assert.ok(!armOnly.some((w) => platformMatches(w, amd)));
    const winVersion = platformsFromOsArch(['windows:10.0.17763.1879'], undefined)!;
    assert.ok(platformMatches(winVersion[0]!, win));
    assert.ok(!platformMatches(winVersion[0]!, { ...win, 'os.version': '10.0.20348.1' }));
  });

  it('refuses malformed items, naming the flag', () => {
    assert.throws(
      () => platformsFromOsArch(['linux/amd64'], undefined),
      /--os "linux\/amd64" is not os\[:os\.version\]/,
    );
    assert.throws(() => platformsFromOsArch(undefined, ['arm64:']), /--arch "arm64:" is not arch\[:variant\]/);
  });

  it('--platform linux/* and */arm64; */* is refused', () => {
    assert.ok(platformMatches(parsePlatforms('linux/*')[0]!, arm));
    assert.ok(platformMatches(parsePlatforms('*/arm64')[0]!, arm));
    assert.ok(!platformMatches(parsePlatforms('*/arm64')[0]!, amd));
    assert.throws(() => parsePlatforms('*/*'), /is not os\/arch/);
  });

  it("a single image's platform comes from its config", () => {
    assert.deepEqual(
      platformOfImageConfig(
        Buffer.from(JSON.stringify({ os: 'linux', architecture: 'arm64', variant: 'v8', rootfs: {} })),
      ),
      arm,
    );
    assert.equal(platformOfImageConfig(Buffer.from('{}')), undefined);
    assert.equal(platformOfImageConfig(Buffer.from('not json')), undefined);
  });
});

describe('--output-success-images', () => {
  const result = (source: string, destination: string, status: ImageResult['status']): ImageResult => ({
    source,
    destination,
    status,
    platforms: [],
    bytesTransferred: 0,
    bytesSkipped: 0,
    blobs: { copied: 0, mounted: 0, present: 0 },
    durationMs: 1,
  });

  it('maps each source to the destinations that hold it (copied or already there), never skipped or failed ones', () => {
    assert.deepEqual(
      successImages([
        result('q/a:1', 'd/a:1', 'copied'),
        result('q/a:1', 'd/b:1', 'unchanged'),
        result('q/a:1', 'd/a:1', 'copied'),
        result('q/c:1', 'd/c:1', 'failed'),
        result('q/e:1', 'd/e:1', 'skipped'),
      ]),
      { 'q/a:1': ['d/a:1', 'd/b:1'] },
    );
  });
});
