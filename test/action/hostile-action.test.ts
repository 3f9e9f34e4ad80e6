import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDigest } from '../../src/oci/digest.js';
import {
  fetchManifest,
  listTags,
  startHostileRegistry,
  startRegistry,
  type HostileRegistry,
  type RunningRegistry,
} from '../harness/index.js';
import { runAction, visibleStdout, type ActionRun } from './support.js';

/**
 * The bundled Action (dist/index.js) against a malicious source registry (docs/security.md): tag names and error
 * bodies written to become workflow commands, Markdown and HTML; a `Docker-Content-Digest` header written to become
 * a shell command in a workflow that interpolates the `digest` output; a registry that echoes the Authorization
 * header (with the canary password) in its errors.
 */

const MARK = 'PWNED';
const CANARY_USER = 'canary';
const CANARY_PASSWORD = 'canary-password-9f2c1e77';
const BASIC = Buffer.from(`${CANARY_USER}:${CANARY_PASSWORD}`).toString('base64');
const EVIL_DIGEST = `sha256:0"; touch /tmp/${MARK}; echo "`;
const EVIL_TEXT = `boom\n::error title=${MARK}::owned\n::add-mask::${MARK}-mask\n::set-output name=digest::${MARK}\n##[error]${MARK}\n<img src=x onerror=alert(1)> [click](http://evil.example/${MARK}) \n\n# ${MARK} heading \u001b[2J`;

/** Workflow commands the Action itself issues; any other `::` or `##[` line start is an injection. */
const OWN_COMMANDS = /^::(group|endgroup|error|warning|notice|debug|add-mask)(::| )/;

function assertNoInjectedCommand(run: ActionRun): void {
  for (const line of run.stdout.split('\n')) {
    if (!/^\s*(::|##\[)/.test(line)) continue;
    assert.match(line, OWN_COMMANDS, `an unexpected workflow command: ${JSON.stringify(line)}`);
    const command = line.slice(0, line.indexOf('::', 2) + 2);
    assert.equal(
      command.includes(MARK),
      false,
      `the registry chose a workflow command's properties: ${JSON.stringify(line)}`,
    );
    if (line.startsWith('::add-mask::')) assert.equal(line.includes(MARK), false, `the registry chose a mask: ${line}`);
  }
}

function assertNoSecret(run: ActionRun): void {
  for (const [where, text] of [
    ['stdout', visibleStdout(run.stdout)],
    ['stderr', run.stderr],
    ['GITHUB_OUTPUT', run.outputText],
    ['GITHUB_STEP_SUMMARY', run.summary],
  ] as const) {
    for (const secret of [CANARY_PASSWORD, BASIC])
      assert.equal(text.includes(secret), false, `${where} holds a secret`);
  }
}

/** Markdown outside code spans must hold none of the registry's markup. */
function assertInertMarkdown(markdown: string): void {
  const outside = markdown.replace(/(`+)[\s\S]*?\1/g, '');
  assert.doesNotMatch(outside, new RegExp(MARK), markdown);
  assert.doesNotMatch(outside, /<img|\]\(http/, markdown);
  assert.doesNotMatch(markdown, new RegExp(`^#+ .*${MARK}`, 'm'), markdown);
}

describe('GitHub Action against a hostile registry', () => {
  let evil: HostileRegistry;
  let dst: RunningRegistry;
  let goodDigest: string;
  let auth: string;

  before(async () => {
    dst = await startRegistry();
    evil = await startHostileRegistry({
      auth: { kind: 'basic', username: CANARY_USER, password: CANARY_PASSWORD },
      handle(req, res, request) {
        const path = request.url.pathname;
        if (path === '/v2/team/broken/manifests/1.0') {
          // The error body echoes the request's Authorization header, with text written to become commands and markup.
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              errors: [{ code: 'DENIED', message: `${EVIL_TEXT} auth=${req.headers.authorization ?? ''}` }],
            }),
          );
          return true;
        }
        if (path === '/v2/team/digest/manifests/1.0' && request.authorization) {
          res.writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': EVIL_DIGEST,
            'content-length': '2',
          });
          res.end(req.method === 'HEAD' ? undefined : '{}');
          return true;
        }
        return false;
      },
    });
    goodDigest = evil.addImage('team/app', 'v1', 'good').digest;
    // Tags written to become workflow commands and terminal escapes; the tag list is the registry's text.
    evil.tags('team/app').push(`v2\n::set-output name=digest::${MARK}`, `v3\u001b[31m${MARK}`, `../../${MARK}`);
    auth = JSON.stringify({
      [evil.host]: { username: CANARY_USER, password: CANARY_PASSWORD, insecure: true },
      [dst.host]: { insecure: true },
    });
  });

  after(async () => {
    await Promise.all([evil?.stop(), dst?.stop()]);
  });

  test('sync: hostile tags and error bodies start no workflow command, leak no secret, and the good image is copied alone', async () => {
    const images = JSON.stringify({
      [`${evil.host}/team/app`]: `${dst.host}/mirror/app`,
      [`${evil.host}/team/broken:1.0`]: `${dst.host}/mirror/broken:1.0`,
    });
    const run = await runAction({ inputs: { images, auth, mode: 'sync' } });
    assert.equal(run.code, 1, run.stdout);
    assertNoInjectedCommand(run);
    assertNoSecret(run);
    assert.equal(run.stdout.includes('\u001b'), false, 'no terminal escape reaches the log');
    // The one valid tag is copied; no registry-chosen tag appears at the destination.
    assert.deepEqual(await listTags(dst, 'mirror/app'), ['v1']);
    assert.equal((await fetchManifest(dst, 'mirror/app', 'v1')).digest, goodDigest);
    assert.deepEqual(await listTags(dst, 'mirror/broken'), []);
    const digests = JSON.parse(run.outputs.digests!) as Record<string, string>;
    assert.deepEqual(digests, { [`${dst.host}/mirror/app:v1`]: goodDigest });
    assert.equal(run.outputs.digest, undefined);
    const images_ = JSON.parse(run.outputs.images!) as Array<{
      destination: string;
      status: string;
      error?: { message: string };
    }>;
    const broken = images_.find((i) => i.destination.endsWith('/mirror/broken:1.0'))!;
    assert.equal(broken.status, 'failed');
    assert.match(broken.error!.message, /team\/broken/);
    assert.doesNotMatch(run.summary, /<img|\n# /);
  });

  test('plan: a Docker-Content-Digest that is a shell command fails its image and never becomes an output; the plan renders inert', async () => {
    const images = JSON.stringify({
      [`${evil.host}/team/digest:1.0`]: `${dst.host}/mirror/digest:1.0`,
      [`${evil.host}/team/broken:1.0`]: `${dst.host}/mirror/broken:1.0`,
      [`${evil.host}/team/app:v1`]: `${dst.host}/mirror/plan-app:v1`,
    });
    const run = await runAction({ inputs: { images, auth, mode: 'plan' } });
    assert.equal(run.code, 1, run.stdout);
    assertNoInjectedCommand(run);
    assertNoSecret(run);
    for (const digest of Object.values(JSON.parse(run.outputs.digests!) as Record<string, string>))
      assert.ok(isDigest(digest), digest);
    assert.equal(run.outputs.digest, undefined);
    assert.equal(
      `${run.outputs.digests}${run.outputs.digest ?? ''}`.includes(MARK),
      false,
      'the hostile digest is in no digest output',
    );
    const entries = JSON.parse(run.outputs.images!) as Array<{
      destination: string;
      status: string;
      error?: { code: string; message: string };
    }>;
    const digestEntry = entries.find((e) => e.destination.endsWith('/mirror/digest:1.0'))!;
    assert.equal(digestEntry.status, 'failed');
    assert.equal(digestEntry.error!.code, 'ERR_INVALID_DIGEST');
    assert.match(digestEntry.error!.message, /Docker-Content-Digest/);
    assert.equal(entries.find((e) => e.destination.endsWith('/mirror/plan-app:v1'))!.status, 'new');
    assertInertMarkdown(run.outputs.plan!);
    assert.doesNotMatch(run.summary, /<img|\]\(http|\n#+ /);
  });
});
