import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlText, markdownCode, printable, workflowLogText } from '../../src/results/escape.js';
import { serverDigest, isDigest } from '../../src/oci/digest.js';
import { formatImageLine } from '../../src/results/format.js';
import { formatPlanMarkdown } from '../../src/results/plan-report.js';
import { syncOutputs, planOutputs } from '../../src/action/outputs.js';
import { syncSummaryHtml } from '../../src/action/summary.js';
import type { ImageResult } from '../../src/engine/image-result.js';
import { parseManifest } from '../../src/oci/manifest.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function result(over: Partial<ImageResult>): ImageResult {
  return {
    source: 'src.example/team/app:v1',
    destination: 'dst.example/team/app:v1',
    platforms: [],
    bytesTransferred: 0,
    bytesSkipped: 0,
    blobs: { copied: 0, mounted: 0, present: 0 },
    status: 'copied',
    durationMs: 1,
    digest: DIGEST,
    ...over,
  } as ImageResult;
}

describe('escaping of registry-chosen text', () => {
  it('printable removes terminal escape sequences and turns controls and line breaks into spaces', () => {
    assert.equal(printable('a\u001b[31mred\u001b[0m b'), 'ared b');
    assert.equal(printable('title\u001b]0;pwned\u0007 x'), 'title x');
    assert.equal(printable('x\u009b2Jy'), 'xy');
    assert.equal(printable('line1\nline2\r\nline3'), 'line1 line2  line3');
    assert.equal(printable('rtl\u202eevil'), 'rtl evil');
    assert.equal(printable('plain text: v1.2-rc_3'), 'plain text: v1.2-rc_3');
  });

  it('workflowLogText never lets a line start a workflow command', () => {
    const text = workflowLogText(
      'ok\n::set-output name=digest::sha256:0\n  ::add-mask::x\n##[error]boom\nmid ::warning::fine',
    );
    for (const line of text.split('\n')) assert.doesNotMatch(line, /^\s*(::|##\[)/, line);
    assert.match(text, /mid ::warning::fine/);
  });

  it('markdownCode renders as literal text in a GFM table cell', () => {
    assert.equal(markdownCode('a|b'), '`a\\|b`');
    assert.equal(markdownCode('has `tick` inside'), '``has `tick` inside``');
    assert.equal(markdownCode('`x`'), '`` `x` ``');
    assert.equal(markdownCode('<img src=x>\n# head'), '`<img src=x> # head`');
    assert.equal(markdownCode(''), '');
  });

  it('htmlText escapes HTML and keeps one line (no blank line can end the HTML block)', () => {
    assert.equal(htmlText('<img src=x>\n\n# heading'), '&lt;img src=x&gt;  # heading');
  });

  it('isDigest / serverDigest accept only algorithm:hex digests and quote what they refuse', () => {
    assert.equal(isDigest(DIGEST), true);
    for (const bad of [
      'prod',
      'sha256:0"; touch /tmp/x; echo "',
      `sha256:../../${'a'.repeat(58)}`,
      `SHA256:${'a'.repeat(64)}`,
      42,
    ]) {
      assert.equal(isDigest(bad), false);
      assert.throws(
        () => serverDigest(bad, 'Docker-Content-Digest of r/x:1'),
        (e: Error & { code?: string }) =>
          e.code === 'ERR_INVALID_DIGEST' && /Docker-Content-Digest of r\/x:1/.test(e.message),
      );
    }
  });

  it('a descriptor whose digest is a tag or a path fails the manifest with ERR_INVALID_DIGEST', () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'prod', size: 2 }],
      }),
    );
    assert.throws(
      () => parseManifest(index, undefined, { registry: 'r', repository: 'x' }),
      (e: Error & { code?: string }) =>
        e.code === 'ERR_INVALID_DIGEST' && /manifests\[0\]\.digest "prod"/.test(e.message),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'x', digest: DIGEST, size: 1 },
        layers: [{ mediaType: 'x', digest: 'sha256:../../etc/passwd', size: 1 }],
      }),
    );
    assert.throws(
      () => parseManifest(manifest, undefined, { registry: 'r', repository: 'x' }),
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_DIGEST',
    );
  });

  it('the CLI line, the plan Markdown and the job summary keep a hostile tag and error inert', () => {
    const hostile = result({
      destination: 'dst/x:v2\n::set-output name=digest::evil\u001b[2J',
      status: 'failed',
      error: { code: 'ERR_REGISTRY_RESPONSE', message: 'boom\n::error::owned <img src=x> [link](http://e)' },
    });
    const line = formatImageLine(hostile);
    assert.equal(line.includes('\n'), false);
    assert.equal(line.includes('\u001b'), false);
    const md = formatPlanMarkdown({
      entries: [
        {
          source: 's/x:1',
          destination: 'd/x:1\n# heading <img src=x>',
          status: 'failed',
          error: { code: 'E', message: '![i](http://e) <b>x</b>' },
          rule: { file: 'f', key: 'k' },
        } as never,
      ],
      removed: [],
      generateFailures: [],
      warnings: [],
    });
    assert.doesNotMatch(md, /\n# heading/);
    assert.match(md, /`d\/x:1 # heading <img src=x>`/);
    assert.match(md, /`!\[i\]\(http:\/\/e\) <b>x<\/b>`/);
    const html = syncSummaryHtml({
      results: [hostile],
      summary: {
        copied: 0,
        unchanged: 0,
        failed: 1,
        generateFailed: 0,
        bytesTransferred: 0,
        bytesSkipped: 0,
        durationMs: 1,
        retries: 0,
      } as never,
      failures: [],
      warnings: [],
    });
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(/<table>[\s\S]*<\/table>/.exec(html)![0], /\n\s*\n/);
  });

  it('outputs carry only valid digests', () => {
    const evil = 'sha256:0"; touch /tmp/x; echo "';
    assert.deepEqual(syncOutputs([result({ digest: evil })]).digests, {});
    assert.equal(syncOutputs([result({ digest: evil })]).digest, undefined);
    const plan = planOutputs(
      {
        entries: [
          {
            source: 's/x:1',
            destination: 'd/x:1',
            status: 'new',
            digest: evil,
            rule: { file: 'f', key: 'k' },
          } as never,
        ],
        removed: [],
        generateFailures: [],
        warnings: [],
      },
      '',
    );
    assert.equal(plan.digest, undefined);
    assert.deepEqual(plan.digests, {});
  });
});

describe('bounded reads of a registry answer', () => {
  it('readLimited stops a body that drips past its deadline, and one that is too large', async () => {
    const { Readable } = await import('node:stream');
    const { readLimited } = await import('../../src/client/exchange.js');
    const drip = new Readable({ read() {} });
    const timer = setInterval(() => drip.push(Buffer.from(' ')), 20);
    const started = Date.now();
    await assert.rejects(
      readLimited(
        drip,
        1024,
        () => new Error('too large'),
        () => Object.assign(new Error('manifest r/x:1 took too long'), { code: 'ERR_LIMIT_EXCEEDED' }),
        300,
      ),
      (e: Error & { code?: string }) => e.code === 'ERR_LIMIT_EXCEEDED' && /r\/x:1/.test(e.message),
    );
    clearInterval(timer);
    assert.ok(Date.now() - started < 2000);
    const big = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await assert.rejects(
      readLimited(big, 1024, () => new Error('too large')),
      /too large/,
    );
  });
});
