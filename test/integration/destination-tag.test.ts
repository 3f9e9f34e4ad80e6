import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import { parseReference } from '../../src/oci/reference.js';
import {
  fetchManifest,
  ImageBuilder,
  listTags,
  pushImage,
  startRegistry,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { codeBlocks } from '../unit/markdown.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A destination named without a tag gets the source's tag, whichever way it is named: the CLI, `--json`, and the
 * library as docs/cli.md shows it (`engine.copy(parseReference(src), parseReference(dst))`, where parseReference
 * assumes `latest` for the destination); and every output names the tag that was written.
 */
describe('a destination without a tag takes the source tag, and results name it', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;
  let auth: { file: string; env: Record<string, string> };
  let dir: string;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ auth: 'basic' }),
      ImageBuilder.temporary(),
    ]);
    image = await builder.image({ format: 'oci', layers: 1, layerSize: 64 * 1024 });
    await pushImage(src, 'coreos/etcd', 'v3.5.17', image, builder);
    auth = await writeAuthJson([src, dst]);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-library-'));
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose(), dir && rm(dir, { recursive: true, force: true })]);
  });

  test('parseReference marks an assumed tag, and only that one', () => {
    assert.equal(parseReference('quay.io/a/b').tagImplied, true);
    assert.equal(parseReference('quay.io/a/b').tag, 'latest');
    assert.equal(parseReference('quay.io/a/b:latest').tagImplied, false);
    assert.equal(parseReference('quay.io/a/b', { defaultTag: false }).tagImplied, false);
    assert.equal(parseReference('quay.io/a/b').withTag('x').tagImplied, false);
  });

  test("docs/cli.md's library example, run as written: the copy is tagged v3.5.17, not latest", async () => {
    const block = codeBlocks(await readFile(join(ROOT, 'docs/cli.md'), 'utf8'), 'ts').find((b) =>
      b.includes('engine.copy('),
    );
    assert.ok(block, 'docs/cli.md has the library example');
    const program = block
      .replace("'cdktf-swr/engine'", JSON.stringify(pathToFileURL(join(ROOT, 'lib/src/index.js')).href))
      .replace("'quay.io/coreos/etcd:v3.5.17'", `'${src.host}/coreos/etcd:v3.5.17'`)
      .replace("'swr.cn-north-4.myhuaweicloud.com/mirror/etcd'", `'${dst.host}/library-mirror/etcd'`)
      .replace("loadAuthJson('auth.json')", `loadAuthJson(${JSON.stringify(auth.file)})`);
    assert.notEqual(program, block);
    await writeFile(join(dir, 'example.mjs'), `${program}\nconsole.log(JSON.stringify(result));\n`);
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'example.mjs')], {
      cwd: dir,
      env: { ...process.env, ...auth.env },
    });
    const result = JSON.parse(stdout) as ImageResult;
    assert.equal(result.status, 'copied', result.error?.message);
    assert.equal(result.destination, `${dst.host}/library-mirror/etcd:v3.5.17`);
    assert.deepEqual(await listTags(dst, 'library-mirror/etcd'), ['v3.5.17']);
  });

  test('swr-sync copy: the line and --json name the tag written', async () => {
    const json = await runCli(
      ['copy', `${src.host}/coreos/etcd:v3.5.17`, `${dst.host}/cli-mirror/etcd`, '--auth', auth.file, '--json'],
      { env: auth.env },
    );
    assert.equal(json.code, 0, json.stderr);
    assert.equal(parseJsonOutput<ImageResult>(json).destination, `${dst.host}/cli-mirror/etcd:v3.5.17`);
    const text = await runCli(
      ['copy', `${src.host}/coreos/etcd:v3.5.17`, `${dst.host}/cli-mirror/etcd`, '--auth', auth.file],
      { env: auth.env },
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^unchanged +\\S+ -> ${dst.host}/cli-mirror/etcd:v3\\.5\\.17 `));
    assert.deepEqual(await listTags(dst, 'cli-mirror/etcd'), ['v3.5.17']);
  });

  test('a digest-only source is still stored by digest, without a tag', async () => {
    const run = await runCli(
      ['copy', `${src.host}/coreos/etcd@${image.digest}`, `${dst.host}/by-digest/etcd`, '--auth', auth.file, '--json'],
      { env: auth.env },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(parseJsonOutput<ImageResult>(run).digest, image.digest);
    assert.deepEqual(await listTags(dst, 'by-digest/etcd'), []);
    assert.ok(await fetchManifest(dst, 'by-digest/etcd', image.digest));
  });
});
