import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  ImageBuilder,
  pushImage,
  startRegistry,
  verifyImageComplete,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const RSS_LIMIT = 150 * MiB;

/** Streaming, bounded memory: a 1 GiB layer goes from registry to registry through a CLI process under 150 MiB. */
describe('1 GiB layer', { timeout: 10 * 60_000 }, () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let image: BuiltManifest;

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'basic', tmpfs: true }),
      startRegistry({ auth: 'basic', tmpfs: true }),
      ImageBuilder.temporary({ tmpfs: true }),
    ]);
    // gzip level 0 (stored blocks): a valid gzip'ed tar whose bytes are incompressible anyway, built fast.
    const layer = await builder.layer({ size: GiB, seed: 'one-gib', level: 0 });
    image = await builder.image({ format: 'oci', layers: [layer] });
    await pushImage(src, 'big/layer', 'v1', image, builder);
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  test(`copies with peak RSS under ${RSS_LIMIT / MiB} MiB and the digest intact`, async () => {
    const auth = await writeAuthJson([src, dst]);
    const run = await runCli(
      ['copy', `${src.host}/big/layer:v1`, `${dst.host}/big/layer:v1`, '--auth', auth.file, '--json'],
      { env: auth.env, measureRss: true },
    );
    assert.equal(run.code, 0, run.stderr);
    const result = parseJsonOutput<ImageResult>(run);
    assert.equal(result.digest, image.digest);
    assert.ok(result.bytesTransferred > GiB);
    const rss = run.maxRssBytes!;
    process.stdout.write(
      `# 1 GiB layer: ${(result.durationMs / 1000).toFixed(1)} s, peak RSS ${(rss / MiB).toFixed(0)} MiB\n`,
    );
    assert.ok(rss > 20 * MiB, `the RSS measurement is real (${rss})`);
    assert.ok(rss < RSS_LIMIT, `peak RSS ${(rss / MiB).toFixed(0)} MiB`);
    assert.deepEqual((await verifyImageComplete(dst, 'big/layer', 'v1')).missing, []);
  });
});
