import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { commentBody, commentMarker, COMMENT_MARKER } from '../../src/action/comment.js';
import { InputError, jobConfigOf, manifestInput, readInputs } from '../../src/action/inputs.js';
import { planOutputs, syncOutputs } from '../../src/action/outputs.js';
import { escapeHtml, planSummaryHtml, syncSummaryHtml } from '../../src/action/summary.js';
import type { ImageResult } from '../../src/engine/image-result.js';
import type { PlanReport } from '../../src/results/plan-report.js';
import { summarize } from '../../src/results/run-summary.js';

/** The Action's parts, in process: the inputs module, outputs, summary and comment body. */

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function result(i: number, status: ImageResult['status'], extra: Partial<ImageResult> = {}): ImageResult {
  return {
    source: `quay.io/acme/app:${i}`,
    destination: `swr.example/mirror/app:${i}`,
    ...(status !== 'failed' ? { sourceDigest: D1, digest: D1 } : {}),
    platforms: ['linux/amd64'],
    bytesTransferred: status === 'copied' ? 2048 : 0,
    bytesSkipped: 1024,
    blobs: { copied: 1, mounted: 0, present: 1 },
    status,
    durationMs: 5,
    ...extra,
  };
}

describe('inputs', () => {
  const context = async (inputs: Record<string, string>, env: Record<string, string> = {}) => {
    const base = await mkdtemp(join(tmpdir(), 'swr-action-inputs-'));
    await mkdir(join(base, 'ws'));
    await mkdir(join(base, 'temp'));
    const masked: string[] = [];
    return {
      base,
      masked,
      read: () =>
        readInputs({
          getInput: (name) => inputs[name] ?? '',
          setSecret: (s) => masked.push(s),
          env: { GITHUB_WORKSPACE: join(base, 'ws'), RUNNER_TEMP: join(base, 'temp'), ...env },
        }),
    };
  };

  test('inline auth: passwords (after ${VAR}) and their Basic forms masked; written 0600 under RUNNER_TEMP and removed by cleanup', async () => {
    const auth =
      '{"reg.example": {"username": "robot-ci", "password": "${REG_PASSWORD}"}, "other.example": {"username": "u", "password": "literal-pw"}}';
    const c = await context(
      { images: '{"quay.io/acme/app:1": "reg.example/mirror/app:1"}', auth, 'github-token': 'ghs_abc' },
      { REG_PASSWORD: 'expanded-pw' },
    );
    const inputs = await c.read();
    assert.deepEqual(c.masked, [
      'ghs_abc',
      'expanded-pw',
      Buffer.from('robot-ci:expanded-pw').toString('base64'),
      Buffer.from('expanded-pw').toString('base64'),
      'literal-pw',
      Buffer.from('u:literal-pw').toString('base64'),
      Buffer.from('literal-pw').toString('base64'),
    ]);
    assert.ok(inputs.authFile?.startsWith(join(c.base, 'temp')));
    assert.equal((await stat(inputs.authFile!)).mode & 0o777, 0o600);
    assert.equal(await readFile(inputs.authFile!, 'utf8'), auth);
    assert.equal(inputs.imageFiles.length, 1);
    assert.deepEqual(
      {
        mode: inputs.mode,
        workers: inputs.workers,
        retries: inputs.retries,
        summary: inputs.summary,
        comment: inputs.comment,
      },
      { mode: 'sync', workers: 7, retries: 3, summary: true, comment: false },
    );
    await inputs.cleanup();
    await assert.rejects(stat(inputs.authFile!), { code: 'ENOENT' });
  });

  test('http2: false reaches the job as --no-http2 would; by default nothing is set (HTTP/2 offered)', async () => {
    const images = '{"quay.io/acme/app:1": "reg.example/mirror/app:1"}';
    assert.equal(jobConfigOf(await (await context({ images, http2: 'false' })).read(), {}).http2, false);
    assert.equal(jobConfigOf(await (await context({ images })).read(), {}).http2, undefined);
    await assert.rejects((await context({ images, http2: 'maybe' })).read(), /http2/);
  });

  test('with-referrers, verify-destination, rate, bandwidth and timeout reach the job as their CLI flags would; absent, nothing is set', async () => {
    const images = '{"quay.io/acme/app:1": "reg.example/mirror/app:1"}';
    const given = await (
      await context({
        images,
        'with-referrers': 'true',
        'verify-destination': 'True',
        rate: '2.5',
        bandwidth: '1.5MiB',
        timeout: '30m',
      })
    ).read();
    const job = jobConfigOf(given, {});
    assert.deepEqual(
      {
        withReferrers: job.withReferrers,
        verifyDestination: job.verifyDestination,
        rate: job.rate,
        bandwidth: job.bandwidth,
        timeoutMs: job.timeoutMs,
      },
      { withReferrers: true, verifyDestination: true, rate: 2.5, bandwidth: 1_572_864, timeoutMs: 1_800_000 },
    );
    const plain = jobConfigOf(await (await context({ images, 'with-referrers': 'false' })).read(), {});
    for (const key of ['withReferrers', 'verifyDestination', 'rate', 'bandwidth', 'timeoutMs'] as const)
      assert.equal(plain[key], undefined, key);
  });

  test('an auth file in the workspace is read (and masked) where it is; relative paths are taken from the workspace', async () => {
    const c = await context({
      images: 'images.yaml',
      auth: 'auth.json',
      'lock-file': 'locks/swr-mirror.lock.json',
      platforms: 'linux/amd64, linux/arm64',
      shard: '2/3',
    });
    await writeFile(join(c.base, 'ws', 'auth.json'), '{"reg.example": {"username": "u", "password": "file-pw"}}');
    await writeFile(join(c.base, 'ws', 'images.yaml'), 'quay.io/acme/app:1: reg.example/mirror/app:1\n');
    const inputs = await c.read();
    assert.equal(inputs.authFile, join(c.base, 'ws', 'auth.json'));
    assert.ok(c.masked.includes('file-pw'));
    assert.deepEqual(inputs.imageFiles, [join(c.base, 'ws', 'images.yaml')]);
    assert.equal(inputs.lockFile, join(c.base, 'ws', 'locks', 'swr-mirror.lock.json'));
    assert.deepEqual(inputs.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    assert.deepEqual(inputs.shard, { index: 2, count: 3 });
    assert.equal(inputs.tempDir, undefined, 'nothing written for file inputs');
  });

  test('errors name the input and never quote an auth value', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ manifest: 'x', workers: '1.5' }, /^input "workers": expected a positive integer, got "1\.5"$/],
      [{ manifest: 'x', retries: '21' }, /^input "retries": expected a non-negative integer from 0 to 20, got "21"$/],
      [{ manifest: 'x', shard: '0/2' }, /^input "shard": expected I\/N/],
      [{ manifest: 'x', comment: 'maybe' }, /^input "comment": expected true or false, got "maybe"$/],
      [
        { manifest: 'x', auth: 'secret-looking-value' },
        /^input "auth": no file at the given path, and the value is not an inline auth\.json/,
      ],
      [
        { manifest: 'x', auth: '{"reg.example": {"username": "u", "password": "p", "token": "t0ps3cret"}}' },
        /^input "auth", key "reg\.example": unknown field "token"/,
      ],
      [{ images: 'missing.json' }, /^input "images": no file at "missing\.json"/],
    ];
    for (const [inputs, message] of cases) {
      const c = await context(inputs);
      await assert.rejects(c.read(), (e: Error) => {
        assert.match(e.message, message);
        assert.ok(!e.message.includes('secret-looking-value') && !e.message.includes('t0ps3cret'));
        return true;
      });
    }
    const c = await context({ manifest: 'x', workers: 'x' });
    await assert.rejects(c.read(), (e: unknown) => e instanceof InputError && e.input === 'workers' && e.isInputError);
  });

  test("manifest: a cdktf.out directory gives every stack's swr-mirror.json, sorted; a stack directory or a file gives one", async () => {
    const ws = await mkdtemp(join(tmpdir(), 'swr-action-manifest-'));
    for (const stack of ['zeta', 'alpha', 'empty'])
      await mkdir(join(ws, 'cdktf.out', 'stacks', stack), { recursive: true });
    await writeFile(join(ws, 'cdktf.out', 'stacks', 'zeta', 'swr-mirror.json'), '{}');
    await writeFile(join(ws, 'cdktf.out', 'stacks', 'alpha', 'swr-mirror.json'), '{}');
    assert.deepEqual(await manifestInput('cdktf.out', ws), [
      join(ws, 'cdktf.out', 'stacks', 'alpha', 'swr-mirror.json'),
      join(ws, 'cdktf.out', 'stacks', 'zeta', 'swr-mirror.json'),
    ]);
    assert.deepEqual(await manifestInput('cdktf.out/stacks/zeta', ws), [
      join(ws, 'cdktf.out', 'stacks', 'zeta', 'swr-mirror.json'),
    ]);
    assert.deepEqual(await manifestInput(join(ws, 'cdktf.out/stacks/alpha/swr-mirror.json'), ws), [
      join(ws, 'cdktf.out', 'stacks', 'alpha', 'swr-mirror.json'),
    ]);
    await assert.rejects(
      manifestInput('cdktf.out/stacks/empty', ws),
      /^InputError: input "manifest": "cdktf.out\/stacks\/empty" is a directory with neither/,
    );
  });
});

describe('outputs', () => {
  test('sync: digests sorted by destination, failed images left out; digest only for exactly one image', () => {
    const out = syncOutputs([
      result(2, 'copied'),
      result(1, 'unchanged'),
      result(3, 'failed', { error: { code: 'ERR_NOT_FOUND', message: 'gone' } }),
    ]);
    assert.deepEqual(Object.keys(out.digests), ['swr.example/mirror/app:1', 'swr.example/mirror/app:2']);
    assert.equal(out.digest, undefined);
    assert.equal(out.changed, 1);
    assert.equal(syncOutputs([result(1, 'unchanged')]).digest, D1);
  });

  test('plan: changed counts new + changed; images carry the rule id', () => {
    const rule = { file: 'f', key: 'k', id: 'app' };
    const report: PlanReport = {
      entries: [
        { rule, source: 's:1', destination: 'd/x:1', status: 'new', digest: D1 },
        { rule, source: 's:2', destination: 'd/x:2', status: 'changed', digest: D2, currentDigest: D1 },
        { rule, source: 's:3', destination: 'd/x:3', status: 'unchanged', digest: D1 },
      ],
      removed: [],
      generateFailures: [],
      warnings: [],
    };
    const out = planOutputs(report, 'md');
    assert.equal(out.changed, 2);
    assert.equal(out.plan, 'md');
    assert.deepEqual(out.images[1], {
      source: 's:2',
      destination: 'd/x:2',
      status: 'changed',
      digest: D2,
      currentDigest: D1,
      id: 'app',
    });
  });
});

describe('job summary', () => {
  test('values are HTML-escaped', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const bad = result(1, 'failed', {
      error: { code: 'ERR_REGISTRY_RESPONSE', message: 'HTTP 500: <script>alert(1)</script>' },
    });
    const html = syncSummaryHtml({
      results: [bad],
      summary: summarize([bad], [], 10),
      failures: [],
      warnings: ['tag filter <none> matched'],
    });
    assert.ok(!html.includes('<script>'));
    assert.match(html, /failed: HTTP 500: &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /Note: tag filter &lt;none&gt; matched/);
  });

  test('bounded: past 50 rows one row counts the rest; failures and copies come first', () => {
    const results = [
      ...Array.from({ length: 70 }, (_, i) => result(i + 100, 'unchanged')),
      ...Array.from({ length: 40 }, (_, i) => result(i + 200, 'copied')),
      result(999, 'failed', { error: { code: 'ERR_DENIED', message: 'denied' } }),
    ];
    const html = syncSummaryHtml({ results, summary: summarize(results, [], 1000), failures: [], warnings: [] });
    const rows = html.match(/<tr><td>/g) ?? [];
    assert.equal(rows.length, 50);
    assert.match(
      html,
      /<tr><td>[^\n]*app:999<\/code><\/td><td><\/td><td>linux\/amd64<\/td><td>failed: denied<\/td><td><\/td><\/tr>/,
    );
    assert.match(
      html,
      /<tr><td colspan="5">… and 61 more \(61 unchanged\): the <code>images<\/code> output lists every image<\/td><\/tr>/,
    );
    assert.match(html, /<p>40 copied, 70 unchanged, 1 failed · 80\.0 KiB transferred, 111 KiB skipped · 1\.00 s<\/p>/);
    assert.ok(html.length < 20_000, `${html.length} characters`);
  });

  test('plan: old → new digest for a changed image, removed lock entries listed, no bytes column', () => {
    const rule = { file: 'f', key: 'k' };
    const html = planSummaryHtml({
      entries: [{ rule, source: 's:1', destination: 'd/x:1', status: 'changed', digest: D2, currentDigest: D1 }],
      removed: [{ destination: 'd/old:1', entry: { source: 's:0', sourceDigest: D1, digest: D1, platforms: [] } }],
      generateFailures: [],
      warnings: [],
    });
    assert.match(html, /<td><code>sha256:111111111111<\/code> → <code>sha256:222222222222<\/code><\/td>/);
    assert.match(
      html,
      /Removed from the lock file \(no longer in the job; the images stay in the registry\): <code>d\/old:1<\/code>/,
    );
    assert.ok(!html.includes('copied / skipped'));
  });
});

describe('PR comment body', () => {
  test("starts with the marker (one per shard) and stays under GitHub's 65536 characters", () => {
    const rule = { file: 'f', key: 'k' };
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      rule,
      source: `quay.io/acme/app-with-a-long-name:${i}`,
      destination: `swr.cn-north-4.myhuaweicloud.com/mirror/app-with-a-long-name:${i}`,
      status: 'new' as const,
      digest: D1,
    }));
    const body = commentBody({ entries, removed: [], generateFailures: [], warnings: [] }, COMMENT_MARKER, 'footer');
    assert.ok(body.startsWith('<!-- swr-sync-plan -->\n**swr-sync plan**: 3000 new'));
    assert.ok(body.length <= 65_000, `${body.length}`);
    assert.match(body, /\| … \| \d+ more \| \| \|/);
    assert.ok(body.endsWith('footer\n'));
    assert.equal(commentMarker({ index: 2, count: 4 }), '<!-- swr-sync-plan shard=2/4 -->');
  });
});
