import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { OciLayoutStore } from '../../src/store/oci-layout.js';
import { indexTar, openTarEntry, writeTar } from '../../src/store/tar.js';
import { parseImagesFile } from '../../src/config/images-file.js';
import { ConfigErrors, InvalidReferenceError, SwrSyncError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import {
  blobPath,
  emptyLayoutIndex,
  findManifest,
  parseLayoutIndex,
  REF_NAME_ANNOTATION,
  refNames,
  serializeLayoutIndex,
  withRef,
  type LayoutIndex,
} from '../../src/oci/layout-index.js';
import { MediaType, type Descriptor } from '../../src/oci/manifest.js';
import { parseReference } from '../../src/oci/reference.js';

const run = promisify(execFile);
const HEX = 'b'.repeat(64);

describe('parseReference: OCI layouts (oci:DIR[:REF], oci-archive:FILE[:REF])', () => {
  test('the path ends at the first colon, is made absolute, and REF is the tag', () => {
    const ref = parseReference('oci:/srv/carry/app:1.0');
    assert.equal(ref.registry, 'oci');
    assert.equal(ref.repository, '/srv/carry/app');
    assert.equal(ref.tag, '1.0');
    assert.equal(ref.digest, undefined);
    assert.equal(ref.isLayout, true);
    assert.equal(ref.name, 'oci:/srv/carry/app');
    assert.equal(ref.ref, '1.0');
  });

  test('relative paths resolve against the working directory; no REF means no tag (the only image)', () => {
    const ref = parseReference('oci-archive:out/images.tar');
    assert.equal(ref.registry, 'oci-archive');
    assert.equal(ref.repository, resolve('out/images.tar'));
    assert.equal(ref.tag, undefined, 'no "latest" default: skopeo reads the only manifest');
    assert.equal(ref.ref, '', 'the layout store reads "" as the only manifest');
    assert.equal(parseReference('oci:/d:').tag, undefined, 'oci:DIR: is oci:DIR, as in skopeo');
  });

  test('REF may use every image-spec ref name separator, including ":" and "/"', () => {
    for (const name of ['v1.0.0-vendor.0', 'a_b', 'a--b', 'release:2024', 'team/app+build@3', 'A1']) {
      assert.equal(parseReference(`oci:/d:${name}`).tag, name);
    }
  });

  test('@N is a source index (skopeo), kept canonical', () => {
    assert.equal(parseReference('oci:/d:@0').tag, '@0');
    assert.equal(parseReference('oci:/d:@007').tag, '@7');
  });

  test('toString round-trips', () => {
    for (const text of ['oci:/a/b:v1', 'oci:/a/b', 'oci-archive:/x/y.tar:app:1.0', 'oci:/d:@2', 'oci:/d:team/app']) {
      const ref = parseReference(text);
      assert.equal(ref.toString(), text);
      assert.deepEqual(parseReference(ref.toString()), ref);
    }
  });

  const invalid: Array<[string, RegExp]> = [
    ['oci:', /layout directory path is missing: write oci:DIR\[:REF\]/],
    ['oci-archive:', /archive file path is missing: write oci-archive:FILE\[:REF\]/],
    ['oci::tag', /path is missing/],
    ['oci://host/x', /not a URL/],
    ['oci:/d:-bad', /REF "-bad" is invalid: a ref name is/],
    ['oci:/d:a//b', /REF "a\/\/b" is invalid/],
    ['oci:/d:a,b', /REF "a,b" is invalid/],
    [`oci:/d@sha256:${HEX}`, /by ref name or @N, not by digest/],
    [`oci:/d:@sha256:${HEX}`, /not a source index: write @N/],
    ['oci:/d:@-1', /not a source index/],
    ['oci:/my dir', /whitespace/],
  ];
  for (const [input, message] of invalid) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseReference(input),
        (e: unknown) => {
          assert.ok(e instanceof InvalidReferenceError);
          assert.equal(e.code, 'ERR_INVALID_REFERENCE');
          assert.equal(e.isInputError, true);
          assert.match(e.message, new RegExp(`"${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  test('registry references are unchanged: "oci" is only a transport when followed by ":"', () => {
    assert.equal(parseReference('oci').toString(), 'docker.io/library/oci:latest');
    assert.equal(parseReference('docker.io/library/oci:1').toString(), 'docker.io/library/oci:1');
  });
});

function descriptor(seed: string, mediaType: string = MediaType.OciManifest): Descriptor {
  const bytes = Buffer.from(seed);
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

function indexOf(manifests: Descriptor[]): LayoutIndex {
  return parseLayoutIndex(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests })), 'oci:/t');
}

function named(d: Descriptor, name: string): Descriptor {
  return { ...d, annotations: { [REF_NAME_ANNOTATION]: name } };
}

describe('layout index.json', () => {
  const a = descriptor('a');
  const b = descriptor('b', MediaType.OciIndex);
  const c = descriptor('c');

  test('blobPath: blobs/<alg>/<encoded>, refusing anything that is not a digest', () => {
    assert.equal(blobPath(`sha256:${HEX}`), `blobs/sha256/${HEX}`);
    assert.throws(() => blobPath('sha256:../../etc/passwd'), /not a blob digest/);
  });

  test('findManifest: by ref name, by @N, and without REF only when there is exactly one', () => {
    const index = indexOf([named(a, 'v1'), named(b, 'v2'), c]);
    assert.equal(findManifest(index, 'v2', 'oci:/t:v2')?.digest, b.digest);
    assert.equal(findManifest(index, 'nope', 'oci:/t:nope'), undefined);
    assert.equal(findManifest(index, '@2', 'oci:/t:@2')?.digest, c.digest);
    assert.throws(
      () => findManifest(index, '@3', 'oci:/t:@3'),
      /source index @3 is out of range: the layout holds 3 manifests \(@0 to @2\)/,
    );
    assert.equal(findManifest(indexOf([a]), '', 'oci:/t')?.digest, a.digest);
    assert.throws(
      () => findManifest(indexOf([named(a, 'v1'), named(b, 'v2')]), '', 'oci:/t'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidReferenceError);
        assert.match(
          e.message,
          /"oci:\/t": the layout holds 2 manifests \(ref names: v1, v2\); without :REF it must hold exactly one/,
        );
        return true;
      },
    );
    assert.throws(() => findManifest(emptyLayoutIndex(), '', 'oci:/t'), /holds 0 manifests/);
  });

  test('withRef replaces the entry carrying the name and an unnamed entry of the same digest; others keep their place', () => {
    let index = indexOf([named(a, 'v1'), named(b, 'v2'), c]);
    index = withRef(index, a, 'v2');
    assert.deepEqual(
      index.manifests.map((d) => [d.digest, d.annotations?.[REF_NAME_ANNOTATION]]),
      [
        [a.digest, 'v1'],
        [a.digest, 'v2'],
        [c.digest, undefined],
      ],
    );
    index = withRef(index, c, 'v3');
    assert.deepEqual(refNames(index), ['v1', 'v2', 'v3']);
    assert.equal(index.manifests.length, 3, 'the unnamed entry of c became v3');
    assert.throws(() => withRef(index, a, 'bad name'), /a ref name is/);
  });

  test('a rewrite keeps fields of index.json it does not know, and writes mediaType for a new index', () => {
    const index = parseLayoutIndex(
      Buffer.from(JSON.stringify({ schemaVersion: 2, annotations: { x: 'y' }, manifests: [] })),
      'oci:/t',
    );
    const written = JSON.parse(serializeLayoutIndex(withRef(index, a, 'v1')).toString('utf8'));
    assert.deepEqual(written.annotations, { x: 'y' });
    assert.equal(written.manifests[0].annotations[REF_NAME_ANNOTATION], 'v1');
    const fresh = JSON.parse(serializeLayoutIndex(withRef(emptyLayoutIndex(), a, 'v1')).toString('utf8'));
    assert.equal(fresh.schemaVersion, 2);
    assert.equal(fresh.mediaType, MediaType.OciIndex);
  });

  test('parseLayoutIndex names what is wrong', () => {
    assert.throws(() => parseLayoutIndex(Buffer.from('{'), 'oci:/t'), /oci:\/t: index.json is not JSON/);
    assert.throws(
      () => parseLayoutIndex(Buffer.from('{"schemaVersion":1,"manifests":[]}'), 'oci:/t'),
      /schemaVersion 1, expected 2/,
    );
    assert.throws(
      () => parseLayoutIndex(Buffer.from('{"schemaVersion":2,"manifests":[{"digest":"x"}]}'), 'oci:/t'),
      (e: unknown) => {
        assert.ok(e instanceof SwrSyncError);
        assert.equal(e.code, 'ERR_LAYOUT');
        assert.match(e.message, /manifests\[0\] is not a descriptor/);
        return true;
      },
    );
  });
});

describe('tar (oci-archive)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-tar-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('what we write, GNU tar lists and extracts; what GNU tar writes (pax, long names), we index', async () => {
    const src = join(dir, 'src');
    const longName = `blobs/sha512/${'c'.repeat(128)}`;
    await mkdir(join(src, 'blobs', 'sha512'), { recursive: true });
    const files: Record<string, Buffer> = {
      'oci-layout': Buffer.from('{"imageLayoutVersion":"1.0.0"}'),
      'index.json': Buffer.from('{"schemaVersion":2,"manifests":[]}'),
      [longName]: Buffer.alloc(1500, 7),
      'blobs/sha512/empty': Buffer.alloc(0),
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(src, name), bytes);
    const ours = join(dir, 'ours.tar');
    await writeTar(ours, [
      { name: 'oci-layout', type: 'file', path: join(src, 'oci-layout'), size: files['oci-layout']!.length },
      { name: 'index.json', type: 'file', path: join(src, 'index.json'), size: files['index.json']!.length },
      { name: 'blobs', type: 'directory' },
      { name: 'blobs/sha512', type: 'directory' },
      { name: longName, type: 'file', path: join(src, longName), size: 1500 },
      { name: 'blobs/sha512/empty', type: 'file', path: join(src, 'blobs/sha512/empty'), size: 0 },
    ]);
    const listed = (await run('tar', ['-tf', ours])).stdout.trim().split('\n');
    assert.deepEqual(listed, ['oci-layout', 'index.json', 'blobs/', 'blobs/sha512/', longName, 'blobs/sha512/empty']);
    const out = join(dir, 'out');
    await mkdir(out);
    await run('tar', ['-xf', ours, '-C', out]);
    for (const [name, bytes] of Object.entries(files)) assert.deepEqual(await readFile(join(out, name)), bytes, name);

    for (const format of ['pax', 'gnu', 'ustar']) {
      const theirs = join(dir, `gnu-${format}.tar`);
      const names = format === 'ustar' ? Object.keys(files).filter((n) => n !== longName) : Object.keys(files);
      await run('tar', [`--format=${format}`, '-cf', theirs, '-C', src, ...names.map((n) => `./${n}`)]);
      const entries = await indexTar(theirs);
      for (const name of names) {
        const entry = entries.get(name);
        assert.ok(entry, `${format}: ${name} indexed`);
        const parts: Buffer[] = [];
        for await (const chunk of openTarEntry(theirs, entry)) parts.push(chunk as Buffer);
        assert.deepEqual(Buffer.concat(parts), files[name], `${format}: ${name} content`);
      }
    }
  });

  test('a compressed, damaged or truncated archive is a clear error', async () => {
    const gz = join(dir, 'x.tar.gz');
    await writeFile(gz, Buffer.from([0x1f, 0x8b, 8, 0, ...Buffer.alloc(600)]));
    await assert.rejects(indexTar(gz), /is gzip-compressed; an oci-archive is a plain tar: decompress it first/);
    const junk = join(dir, 'junk.tar');
    await writeFile(junk, Buffer.alloc(1024, 0x41));
    await assert.rejects(indexTar(junk), /is not a tar archive/);
    const good = join(dir, 'good.tar');
    const payload = join(dir, 'payload');
    await writeFile(payload, Buffer.alloc(4096, 1));
    await writeTar(good, [{ name: 'f', type: 'file', path: payload, size: 4096 }]);
    const cut = join(dir, 'cut.tar');
    await writeFile(cut, (await readFile(good)).subarray(0, 2048));
    await assert.rejects(
      indexTar(cut),
      (e: unknown) => e instanceof SwrSyncError && e.code === 'ERR_LAYOUT' && /is truncated/.test(e.message),
    );
  });
});

describe('OciLayoutStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-layout-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const blob = Buffer.from('layer bytes');
  const blobDigest = digestOf(blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobDigest, size: blob.length },
      layers: [],
    }),
  );
  const manifestDigest = digestOf(manifest);

  test('writes blobs, manifests and index.json; reads them back; lists ref names', async () => {
    const root = join(dir, 'layout');
    const store = new OciLayoutStore({ archives: 'write' });
    await store.uploadBlob('oci', root, blobDigest, blob.length, async () => Readable.from([blob]));
    assert.equal(await store.putManifest('oci', root, manifestDigest, manifest, MediaType.OciManifest), manifestDigest);
    assert.equal(await store.headManifest('oci', root, 'v1'), undefined, 'written by digest: no ref name yet');
    await store.putManifest('oci', root, 'v1', manifest, MediaType.OciManifest);
    assert.deepEqual(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    assert.deepEqual((await readdir(root)).sort(), ['blobs', 'index.json', 'oci-layout'], 'no temporary file left');
    assert.deepEqual(await store.listTags('oci', root), ['v1']);
    const head = await store.headManifest('oci', root, 'v1');
    assert.deepEqual(head, { digest: manifestDigest, mediaType: MediaType.OciManifest, size: manifest.length });
    const fetched = await store.getManifest('oci', root, '');
    assert.equal(fetched.digest, manifestDigest);
    assert.equal(await store.hasBlob('oci', root, blobDigest), true);
    assert.deepEqual(await store.mountBlob('oci', root, blobDigest, root), { mounted: true });
  });

  test('a blob whose bytes do not match its digest is refused and leaves nothing behind', async () => {
    const root = join(dir, 'refuse');
    const store = new OciLayoutStore({ archives: 'write' });
    await assert.rejects(
      store.uploadBlob('oci', root, blobDigest, blob.length, async () => Readable.from([Buffer.from('layer BYTES')])),
      /ERR_DIGEST_MISMATCH|expected sha256/,
    );
    assert.deepEqual(await readdir(join(root, 'blobs')), []);
    assert.deepEqual((await readdir(root)).sort(), ['blobs', 'oci-layout']);
  });

  test('refuses to write into a directory that is neither empty nor a layout, and a file for oci:', async () => {
    const notLayout = join(dir, 'home');
    await mkdir(notLayout);
    await writeFile(join(notLayout, 'notes.txt'), 'x');
    const store = new OciLayoutStore({ archives: 'write' });
    await assert.rejects(
      store.putManifest('oci', notLayout, 'v1', manifest, MediaType.OciManifest),
      /neither empty nor an OCI image layout/,
    );
    await assert.rejects(
      store.putManifest('oci', join(notLayout, 'notes.txt'), 'v1', manifest, MediaType.OciManifest),
      /is a file, not a directory/,
    );
  });

  test('another layout of the run lends its blob by hard link (a "mount")', async () => {
    const store = new OciLayoutStore({ archives: 'write' });
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    await store.uploadBlob('oci', first, blobDigest, blob.length, async () => Readable.from([blob]));
    assert.deepEqual(await store.mountBlob('oci', second, blobDigest, first), { mounted: true });
    const [a, b] = await Promise.all([
      stat(join(first, blobPath(blobDigest))),
      stat(join(second, blobPath(blobDigest))),
    ]);
    assert.equal(a.ino, b.ino);
  });

  test('an archive destination is written by finish() as a tar that reads back; none written when nothing was tagged', async () => {
    const file = join(dir, 'out', 'images.tar');
    const writer = new OciLayoutStore({ archives: 'write' });
    await writer.uploadBlob('oci-archive', file, blobDigest, blob.length, async () => Readable.from([blob]));
    await writer.putManifest('oci-archive', file, 'app:1', manifest, MediaType.OciManifest);
    await assert.rejects(stat(file), /ENOENT/, 'nothing at the target before finish()');
    const outcomes = await writer.finish();
    assert.deepEqual(
      outcomes.map((o) => [o.name, o.written, o.error]),
      [[`oci-archive:${file}`, true, undefined]],
    );
    assert.deepEqual(await readdir(join(dir, 'out')), ['images.tar'], 'staging directory and temporary file removed');
    const reader = new OciLayoutStore({ archives: 'read' });
    assert.deepEqual(await reader.listTags('oci-archive', file), ['app:1']);
    assert.equal((await reader.getManifest('oci-archive', file, 'app:1')).digest, manifestDigest);
    const opened = await reader.getBlob('oci-archive', file, blobDigest);
    const parts: Buffer[] = [];
    for await (const chunk of opened.body) parts.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(parts), blob);

    const before = await readFile(file);
    const idle = new OciLayoutStore({ archives: 'write' });
    await idle.uploadBlob('oci-archive', file, blobDigest, blob.length, async () => Readable.from([blob]));
    assert.deepEqual(
      (await idle.finish()).map((o) => o.written),
      [false],
    );
    assert.deepEqual(await readFile(file), before, 'an archive that received no image is left as it was');
    assert.deepEqual(await readdir(join(dir, 'out')), ['images.tar']);
  });

  test('a missing layout or archive source is not found; an ambiguous one is an input error', async () => {
    const reader = new OciLayoutStore({ archives: 'read' });
    await assert.rejects(
      reader.getManifest('oci', join(dir, 'absent'), 'v1'),
      (e: unknown) =>
        e instanceof SwrSyncError && e.code === 'ERR_NOT_FOUND' && /index.json is missing/.test(e.message),
    );
    await assert.rejects(
      reader.getManifest('oci-archive', join(dir, 'absent.tar'), 'v1'),
      (e: unknown) => e instanceof SwrSyncError && e.code === 'ERR_NOT_FOUND' && /does not exist/.test(e.message),
    );
    const root = join(dir, 'two');
    const writer = new OciLayoutStore({ archives: 'write' });
    await writer.putManifest('oci', root, 'v1', manifest, MediaType.OciManifest);
    const other = Buffer.from(manifest.toString('utf8').replace('"layers":[]', '"layers":[],"annotations":{"x":"y"}'));
    await writer.putManifest('oci', root, 'v2', other, MediaType.OciManifest);
    await assert.rejects(
      reader.getManifest('oci', root, ''),
      (e: unknown) =>
        e instanceof InvalidReferenceError &&
        e.isInputError &&
        /holds 2 manifests \(ref names: v1, v2\)/.test(e.message),
    );
    await assert.rejects(reader.getManifest('oci', root, 'v3'), /has no image named "v3" \(ref names: v1, v2\)/);
  });
});

describe('images files with OCI layouts', () => {
  const parse = (doc: unknown) => parseImagesFile(JSON.stringify(doc), 'images.json', { env: {} });

  test('layouts as sources and destinations: REF is the tag, no REF every ref name', () => {
    const rules = parse({
      'reg.example.com/team/app:1.0': 'oci:/carry/app',
      'reg.example.com/team/tools': 'oci-archive:/carry/tools.tar',
      'oci:/carry/app:1.0': 'swr.example.com/ns/app',
      'oci:/carry/db': 'swr.example.com/ns/db',
      'oci:/carry/web:/^v2\\./': 'swr.example.com/ns/web',
    });
    assert.deepEqual(
      rules.map((r) => [r.source, r.selection.kind, r.destinations[0]]),
      [
        [
          { registry: 'reg.example.com', repository: 'team/app' },
          'tags',
          { registry: 'oci', repository: '/carry/app' },
        ],
        [
          { registry: 'reg.example.com', repository: 'team/tools' },
          'all',
          { registry: 'oci-archive', repository: '/carry/tools.tar' },
        ],
        [{ registry: 'oci', repository: '/carry/app' }, 'tags', { registry: 'swr.example.com', repository: 'ns/app' }],
        [{ registry: 'oci', repository: '/carry/db' }, 'all', { registry: 'swr.example.com', repository: 'ns/db' }],
        [
          { registry: 'oci', repository: '/carry/web' },
          'filter',
          { registry: 'swr.example.com', repository: 'ns/web' },
        ],
      ],
    );
  });

  test('bad layout references name the key and the rule', () => {
    let caught: unknown;
    try {
      parse({
        'oci:': 'swr.example.com/ns/a',
        'oci:/c/b:@0': 'swr.example.com/ns/b',
        [`reg.example.com/x/c@sha256:${HEX}`]: 'oci:/carry/c',
        'reg.example.com/x/d:1': 'oci:/carry/d:bad ref',
      });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigErrors);
    const messages = caught.problems.map((p) => p.message);
    assert.match(messages[0]!, /key "oci:": source "oci:" names no layout directory: write oci:DIR\[:REF\] \(rule 2\)/);
    assert.match(messages[1]!, /source "oci:\/c\/b:@0" names "@0": a source index \(@N\) is for swr-sync copy/);
    assert.match(messages[2]!, /destination "oci:\/carry\/c" needs a :REF: the source is pinned by digest/);
    assert.match(messages[3]!, /contains whitespace/);
  });
});
