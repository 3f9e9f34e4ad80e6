import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  fetchManifest,
  freePort,
  ImageBuilder,
  listTags,
  pushImage,
  startRegistry,
  type BuiltIndex,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { startGitHubApi, type GitHubApi } from './github-api.js';
import { annotations, DEFAULT_TOKEN, runAction, visibleStdout, type ActionRun } from './support.js';

/**
 * The bundled action (dist/index.js) run as the runner runs it, against real loopback registries: a source with
 * Basic auth and a destination with token auth, their real passwords given inline in `auth`.
 */

interface SyncImage {
  source: string;
  destination: string;
  status: string;
  digest?: string;
  platforms: string[];
  error?: { message: string };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('GitHub Action (dist/index.js) against real registries', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let api: GitHubApi;
  let images: {
    app: BuiltManifest;
    multi: BuiltIndex;
    toolV1: BuiltManifest;
    toolV2: BuiltManifest;
    toolV3: BuiltManifest;
  };
  let authInline: string;
  let authEnv: Record<string, string>;
  /** Everything that must never be seen: passwords, derived Basic strings, the GitHub token. */
  let secrets: string[];
  let workspace: string;
  const runs: ActionRun[] = [];

  const run = async (options: Parameters<typeof runAction>[0]): Promise<ActionRun> => {
    const result = await runAction({ ...options, env: { ...authEnv, ...options.env } });
    runs.push(result);
    return result;
  };

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ auth: 'basic' }),
      startRegistry({ auth: 'token' }),
      ImageBuilder.temporary(),
    ]);
    const base = await builder.layer({ size: 48 * 1024 });
    const image = async () =>
      builder.image({ format: 'oci', layers: [base, await builder.layer({ size: 16 * 1024 })] });
    images = {
      app: await image(),
      multi: await builder.multiArch({ format: 'oci', layerSize: 16 * 1024, attestation: true }),
      toolV1: await image(),
      toolV2: await image(),
      toolV3: await image(),
    };
    await Promise.all([
      pushImage(src, 'team/app', '1.0', images.app, builder),
      pushImage(src, 'team/multi', '1.0', images.multi, builder),
      pushImage(src, 'team/tool', 'v1', images.toolV1, builder),
      pushImage(src, 'team/tool', 'v2', images.toolV2, builder),
      pushImage(src, 'team/tool', 'old-1', images.toolV1, builder),
    ]);
    // The source password is written inline; the destination's comes from the step's environment (${VAR}).
    authInline = JSON.stringify(
      {
        [src.host]: { username: src.username, password: src.password, insecure: true },
        [dst.host]: { username: dst.username, password: '${DST_PASSWORD}', insecure: true },
      },
      null,
      2,
    );
    authEnv = { DST_PASSWORD: dst.password! };
    secrets = [
      src.password!,
      dst.password!,
      Buffer.from(`${src.username}:${src.password}`).toString('base64'),
      Buffer.from(`${dst.username}:${dst.password}`).toString('base64'),
      DEFAULT_TOKEN,
    ];

    // A cdktf.out with two stacks, each with its swr-mirror.json (both mirror app:1.0; the job copies it once).
    workspace = await mkdtemp(join(tmpdir(), 'swr-action-ws-'));
    const stack = async (name: string, specImages: unknown[]) => {
      const dir = join(workspace, 'cdktf.out', 'stacks', name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'cdk.tf.json'), '{}\n');
      await writeFile(
        join(dir, 'swr-mirror.json'),
        `${JSON.stringify({ version: 1, stack: name, images: specImages }, null, 2)}\n`,
      );
    };
    await stack('web', [
      { id: 'app', source: `${src.host}/team/app`, destination: `${dst.host}/mirror/app`, tags: ['1.0'] },
      { id: 'multi', source: `${src.host}/team/multi`, destination: `${dst.host}/mirror/multi`, tags: ['1.0'] },
    ]);
    await stack('worker', [
      {
        id: 'tool',
        source: `${src.host}/team/tool`,
        destination: `${dst.host}/mirror/tool`,
        tags: { include: ['^v'] },
      },
      { id: 'app', source: `${src.host}/team/app`, destination: `${dst.host}/mirror/app`, tags: ['1.0'] },
    ]);
    await mkdir(join(workspace, 'cdktf.out', 'stacks', 'no-images'), { recursive: true });
    await writeFile(join(workspace, 'cdktf.out', 'manifest.json'), '{"stacks":{}}\n');

    api = await startGitHubApi({ token: DEFAULT_TOKEN, owner: 'acme', repo: 'infra' });
  });

  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose(), api?.close()]);
  });

  /** What the destination registry holds for `repository:tag` (SHA-256 of the manifest bytes it serves). */
  const digestAt = async (repository: string, tag: string) => (await fetchManifest(dst, repository, tag)).digest;

  test('invalid inputs fail the step before any copy, naming the input', async () => {
    const cases: Array<{ inputs: Record<string, string>; message: string }> = [
      {
        inputs: { manifest: 'cdktf.out', workers: 'x' },
        message: 'input "workers": expected a positive integer, got "x"',
      },
      {
        inputs: { manifest: 'cdktf.out', workers: '0' },
        message: 'input "workers": expected a positive integer from 1 to 256, got "0"',
      },
      {
        inputs: { manifest: 'cdktf.out', shard: '3/2' },
        message: 'input "shard": expected I/N with 1 <= I <= N <= 10000 (e.g. 2/4, one per matrix job), got "3/2"',
      },
      { inputs: {}, message: 'input "images": neither "images" nor "manifest" is set' },
      {
        inputs: { manifest: 'cdktf.out', mode: 'apply' },
        message: 'input "mode": expected "sync" or "plan", got "apply"',
      },
      {
        inputs: { manifest: 'cdktf.out', retries: '-1' },
        message: 'input "retries": expected a non-negative integer, got "-1"',
      },
      {
        inputs: { manifest: 'cdktf.out', summary: 'yes' },
        message: 'input "summary": expected true or false, got "yes"',
      },
      {
        inputs: { manifest: 'cdktf.out', platforms: 'linux' },
        message: 'input "platforms": "linux" is not os/arch[/variant]',
      },
      { inputs: { manifest: 'missing.out' }, message: 'input "manifest": no file or directory at "missing.out"' },
      { inputs: { images: '{"not a reference!": ""}' }, message: 'input "images", key "not a reference!"' },
      {
        inputs: { manifest: 'cdktf.out', auth: '{"127.0.0.1:1": {"username": "u"}}' },
        message: 'input "auth", key "127.0.0.1:1": "password" is missing',
      },
    ];
    const results = await Promise.all(cases.map((c) => run({ inputs: { auth: authInline, ...c.inputs }, workspace })));
    for (const [i, r] of results.entries()) {
      const c = cases[i]!;
      assert.equal(r.code, 1, `${c.message}\n${r.stdout}${r.stderr}`);
      const errors = annotations(r.stdout, 'error');
      assert.equal(errors.length, 1, r.stdout);
      assert.ok(errors[0]!.startsWith(c.message), `expected "${c.message}", got "${errors[0]}"`);
      assert.deepEqual(r.outputs, {}, 'no outputs');
      assert.equal(r.summary, '', 'no summary');
      assert.deepEqual(await readdir(r.runnerTemp), [], 'temporary files removed');
    }
    for (const repository of ['mirror/app', 'mirror/multi', 'mirror/tool'])
      assert.deepEqual(await listTags(dst, repository), [], `${repository}: nothing copied`);
    assert.equal(await exists(join(workspace, 'swr-mirror.lock.json')), false);
  });

  test('a cdktf.out with no mirrored images is "nothing to do": a warning, not a failure', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'swr-action-empty-'));
    await mkdir(join(empty, 'cdktf.out', 'stacks', 'infra'), { recursive: true });
    const r = await run({ inputs: { manifest: 'cdktf.out' }, workspace: empty });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(
      annotations(r.stdout, 'warning').some((w) => w.startsWith('nothing to do')),
      r.stdout,
    );
    assert.equal(r.outputs.changed, '0');
    assert.equal(r.outputs.digests, '{}');
  });

  test('plan from a cdktf.out with two stacks copies nothing and tells what a sync would do', async () => {
    const r = await run({
      inputs: { mode: 'plan', manifest: 'cdktf.out', auth: authInline, 'lock-file': 'swr-mirror.lock.json' },
      workspace,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /4 rules from 2 files → 4 images/);
    const expected = {
      [`${dst.host}/mirror/app:1.0`]: images.app.digest,
      [`${dst.host}/mirror/multi:1.0`]: images.multi.digest,
      [`${dst.host}/mirror/tool:v1`]: images.toolV1.digest,
      [`${dst.host}/mirror/tool:v2`]: images.toolV2.digest,
    };
    assert.deepEqual(JSON.parse(r.outputs.digests!), expected);
    assert.equal(r.outputs.changed, '4');
    assert.equal(r.outputs.digest, undefined, 'no single digest for four images');
    const planned = JSON.parse(r.outputs.images!) as Array<{ status: string; id?: string }>;
    assert.deepEqual(
      planned.map((p) => p.status),
      ['new', 'new', 'new', 'new'],
    );
    assert.match(
      r.outputs.plan!,
      /^\*\*swr-sync plan\*\*: 4 new, 0 changed, 0 unchanged, 0 removed from the lock file\n/,
    );
    assert.match(r.summary, /### swr-sync plan/);
    assert.match(
      r.summary,
      /4 new, 0 changed, 0 unchanged, 0 failed, 0 removed from the lock file · nothing was copied/,
    );
    for (const repository of ['mirror/app', 'mirror/multi', 'mirror/tool'])
      assert.deepEqual(await listTags(dst, repository), [], `${repository}: nothing copied`);
    assert.equal(await exists(join(workspace, 'swr-mirror.lock.json')), false, 'plan writes no lock file');
  });

  test('sync from the cdktf.out: outputs equal what the destination registry holds; the lock file is written in the workspace', async () => {
    const r = await run({
      inputs: { manifest: 'cdktf.out', auth: authInline, 'lock-file': 'swr-mirror.lock.json' },
      workspace,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const digests = JSON.parse(r.outputs.digests!) as Record<string, string>;
    const registry = {
      [`${dst.host}/mirror/app:1.0`]: await digestAt('mirror/app', '1.0'),
      [`${dst.host}/mirror/multi:1.0`]: await digestAt('mirror/multi', '1.0'),
      [`${dst.host}/mirror/tool:v1`]: await digestAt('mirror/tool', 'v1'),
      [`${dst.host}/mirror/tool:v2`]: await digestAt('mirror/tool', 'v2'),
    };
    assert.deepEqual(digests, registry);
    assert.equal(registry[`${dst.host}/mirror/multi:1.0`], images.multi.digest, 'digest preserved');
    assert.equal(r.outputs.changed, '4');
    assert.equal(r.outputs.digest, undefined);
    const results = JSON.parse(r.outputs.images!) as SyncImage[];
    assert.equal(results.length, 4);
    assert.ok(results.every((x) => x.status === 'copied'));
    assert.deepEqual(results.find((x) => x.destination.endsWith('/mirror/multi:1.0'))!.platforms.sort(), [
      'linux/amd64',
      'linux/arm64/v8',
    ]);
    assert.deepEqual(
      await listTags(dst, 'mirror/tool').then((t) => t.sort()),
      ['v1', 'v2'],
      'the include filter left old-1 out',
    );

    const lock = JSON.parse(await readFile(join(workspace, 'swr-mirror.lock.json'), 'utf8')) as {
      images: Record<string, { digest: string }>;
    };
    assert.deepEqual(Object.fromEntries(Object.entries(lock.images).map(([k, v]) => [k, v.digest])), registry);

    assert.match(r.summary, /### swr-sync sync/);
    assert.match(r.summary, /<p>4 copied, 0 unchanged, 0 failed · /);
    assert.match(
      r.summary,
      /<th>source → destination<\/th><th>digest<\/th><th>platforms<\/th><th>status<\/th><th>copied \/ skipped<\/th>/,
    );
    assert.equal(r.summary.match(/<tr><td>/g)?.length, 4);
    assert.match(r.summary, /Lock file <code>swr-mirror\.lock\.json<\/code> updated\./);
    assert.match(r.stdout, /::group::Copying 4 images \(7 at a time\)/);
    assert.match(r.stdout, /Images\(4\) migration finished, 0 images tasks failed, 0 tasks generate failed/);

    // A rerun copies nothing; the lock file stays byte-identical.
    const lockText = await readFile(join(workspace, 'swr-mirror.lock.json'), 'utf8');
    const again = await run({
      inputs: { manifest: 'cdktf.out', auth: authInline, 'lock-file': 'swr-mirror.lock.json', summary: 'false' },
      workspace,
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(again.outputs.changed, '0');
    assert.deepEqual(JSON.parse(again.outputs.digests!), registry);
    assert.equal(again.summary, '', 'summary: false writes no job summary');
    assert.equal(await readFile(join(workspace, 'swr-mirror.lock.json'), 'utf8'), lockText);
  });

  test('exactly one image sets the digest output; inline YAML images', async () => {
    const r = await run({
      inputs: { images: `${src.host}/team/app:1.0: ${dst.host}/mirror/single:1.0\n`, auth: authInline },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const registryDigest = await digestAt('mirror/single', '1.0');
    assert.equal(r.outputs.digest, registryDigest);
    assert.equal(r.outputs.digest, images.app.digest);
    assert.deepEqual(JSON.parse(r.outputs.digests!), { [`${dst.host}/mirror/single:1.0`]: registryDigest });
    assert.equal(r.outputs.changed, '1');
  });

  test('with-referrers copies the cosign signature of the image, digest unchanged; without it the signature stays behind', async () => {
    const signature = await builder.cosign({ kind: 'sig', subject: images.toolV2 });
    const sigTag = `sha256-${images.toolV2.digest.slice('sha256:'.length)}.sig`;
    await pushImage(src, 'team/signed', 'v2', images.toolV2, builder);
    await pushImage(src, 'team/signed', sigTag, signature, builder);
    const without = await run({
      inputs: { images: `${src.host}/team/signed:v2: ${dst.host}/mirror/unsigned:v2\n`, auth: authInline },
    });
    assert.equal(without.code, 0, without.stdout + without.stderr);
    assert.equal(
      (await fetchManifest(dst, 'mirror/unsigned', sigTag)).status,
      404,
      'no signature without with-referrers',
    );

    const r = await run({
      inputs: {
        images: `${src.host}/team/signed:v2: ${dst.host}/mirror/signed:v2\n`,
        auth: authInline,
        'with-referrers': 'true',
        timeout: '5m',
      },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes('with referrers, timeout 5m'), r.stdout);
    assert.equal(r.outputs.digest, images.toolV2.digest);
    assert.equal(
      await digestAt('mirror/signed', sigTag),
      signature.digest,
      'the signature under its cosign tag, digest unchanged',
    );
  });

  test('messages for one image: singular nouns, the inline auth named as the input, an unreachable source as the source', async () => {
    const one = await run({
      inputs: { images: `${src.host}/team/app:1.0: ${dst.host}/mirror/one:1.0\n`, auth: authInline },
    });
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /1 rule from 1 file → 1 image\n/);
    assert.match(one.stdout, /::group::Copying 1 image \(7 at a time\)/);

    // A wrong password from the inline auth: the message names the input, not the temporary file (deleted after the step).
    // (Not in `runs`: the destination's real password is not given to this run, so the masking check does not apply.)
    const denied = await runAction({
      inputs: { images: `${src.host}/team/app:1.0: ${dst.host}/mirror/denied:1.0\n`, auth: authInline },
      env: { DST_PASSWORD: 'wrong-password' },
    });
    assert.equal(denied.code, 1, denied.stdout);
    const deniedErrors = annotations(denied.stdout, 'error');
    assert.ok(
      deniedErrors.some((e) => e.includes('credentials for') && e.includes('input "auth"')),
      deniedErrors.join('\n'),
    );
    assert.ok(!/auth\.json/.test(denied.stdout + denied.stderr), 'no temporary auth.json path in the log');
    assert.ok(
      deniedErrors.some((e) => e.startsWith('the image failed: ')),
      deniedErrors.join('\n'),
    );

    // A source nobody answers at: reported as the source's failure, never as the destination refusing credentials.
    const port = await freePort();
    const away = await run({
      inputs: {
        images: `127.0.0.1:${port}/team/app:1.0: ${dst.host}/mirror/away:1.0\n`,
        auth: `${authInline.slice(0, -2)},\n  "127.0.0.1:${port}": { "insecure": true }\n}`,
        retries: '0',
      },
    });
    assert.equal(away.code, 1, away.stdout);
    const awayErrors = annotations(away.stdout, 'error');
    assert.ok(
      awayErrors.some((e) => new RegExp(`registry 127\\.0\\.0\\.1:${port} unreachable: ECONNREFUSED`).test(e)),
      awayErrors.join('\n'),
    );
    assert.ok(!awayErrors.some((e) => /401|credentials/.test(e)), awayErrors.join('\n'));
    assert.ok(!awayErrors.some((e) => /\(cause: /.test(e)), awayErrors.join('\n'));
  });

  test('a failing image is named with its cause; the others are still copied and reported', async () => {
    const inline = JSON.stringify({
      [`${src.host}/team/tool:v1`]: `${dst.host}/mirror/partial:v1`,
      [`${src.host}/team/tool:no-such-tag`]: `${dst.host}/mirror/partial:no-such-tag`,
      [`${src.host}/team/no-such-repository`]: `${dst.host}/mirror/partial-all`,
    });
    const r = await run({ inputs: { images: inline, auth: authInline } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const errors = annotations(r.stdout, 'error');
    const named = errors.filter((e) =>
      e.includes(`${src.host}/team/tool:no-such-tag -> ${dst.host}/mirror/partial:no-such-tag`),
    );
    assert.equal(named.length, 2, `an annotation for the image and the step's failure:\n${errors.join('\n')}`);
    assert.ok(
      named.every((e) => /not found/.test(e)),
      named.join('\n'),
    );
    assert.ok(
      errors.some(
        (e) =>
          e.startsWith('1 of 2 images failed: ') &&
          e.endsWith('; 1 rule could not be resolved (tags could not be listed; see the errors above)'),
      ),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) =>
        e.startsWith(
          `${src.host}/team/no-such-repository (input "images", key "${src.host}/team/no-such-repository"): `,
        ),
      ),
      errors.join('\n'),
    );
    assert.deepEqual(JSON.parse(r.outputs.digests!), {
      [`${dst.host}/mirror/partial:v1`]: await digestAt('mirror/partial', 'v1'),
    });
    assert.equal(r.outputs.changed, '1');
    assert.match(r.summary, /<td>failed: [^<]*not found/);
    assert.match(
      r.summary,
      /<p>Could not resolve <code>[^<]*team\/no-such-repository<\/code> \(input &quot;images&quot;\): /,
    );
  });

  test('plan on a pull request: one comment created, then updated in place on the next run', async () => {
    for (let i = 0; i < 120; i++) api.seed(7, `review comment ${i}`);
    const event = {
      name: 'pull_request',
      payload: {
        action: 'synchronize',
        number: 7,
        pull_request: { number: 7, head: { sha: 'abcdef0123456789abcdef0123456789abcdef01' } },
        repository: { name: 'infra', owner: { login: 'acme' } },
      },
    };
    const inputs = {
      mode: 'plan',
      manifest: 'cdktf.out',
      auth: authInline,
      'lock-file': 'swr-mirror.lock.json',
      comment: 'true',
    };

    const first = await run({ inputs, workspace, event, apiUrl: api.url });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /comment created on pull request #7/);
    const posts = api.requests.filter((q) => q.method === 'POST');
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.path, '/repos/acme/infra/issues/7/comments');
    const mine = () => api.comments.get(7)!.filter((c) => c.body.includes('<!-- swr-sync-plan -->'));
    assert.equal(mine().length, 1);
    const body1 = mine()[0]!.body;
    assert.ok(
      body1.startsWith(
        '<!-- swr-sync-plan -->\n**swr-sync plan**: 0 new, 0 changed, 4 unchanged, 0 removed from the lock file',
      ),
      body1,
    );
    assert.match(
      body1,
      /for abcdef0 · \[workflow run\]\(https:\/\/github\.example\/acme\/infra\/actions\/runs\/4242\)/,
    );

    // The source moves on (a new tag the filter selects): the same comment now shows it.
    await pushImage(src, 'team/tool', 'v3', images.toolV3, builder);
    api.requests.length = 0;
    const second = await run({ inputs, workspace, event, apiUrl: api.url });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /comment updated on pull request #7/);
    assert.equal(api.requests.filter((q) => q.method === 'POST').length, 0, 'no second comment');
    const lists = api.requests.filter((q) => q.method === 'GET');
    assert.deepEqual(
      lists.map((q) => q.path),
      ['/repos/acme/infra/issues/7/comments?per_page=100', '/repos/acme/infra/issues/7/comments?per_page=100&page=2'],
      'both pages read',
    );
    const patches = api.requests.filter((q) => q.method === 'PATCH');
    assert.deepEqual(
      patches.map((q) => q.path),
      [`/repos/acme/infra/issues/comments/${mine()[0]!.id}`],
    );
    assert.equal(mine().length, 1);
    assert.equal(api.comments.get(7)!.length, 121);
    assert.match(mine()[0]!.body, /\*\*swr-sync plan\*\*: 1 new, 0 changed, 4 unchanged/);
    assert.match(mine()[0]!.body, /\| new \| [^|]*team\/tool:v3` \| [^|]*mirror\/tool:v3` \|/);
    assert.equal(second.outputs.changed, '1');
    assert.ok(
      api.requests.every((q) => q.authorization === `token ${DEFAULT_TOKEN}`),
      'every request carries the token',
    );

    // Not a pull request: no request to the API at all.
    api.requests.length = 0;
    const push = await run({ inputs, workspace, event: { name: 'push', payload: {} }, apiUrl: api.url });
    assert.equal(push.code, 0, push.stdout + push.stderr);
    assert.match(push.stdout, /comment: not a pull request event \(push\): no comment written/);
    assert.equal(api.requests.length, 0);
  });

  test('no secret given in auth (nor the token) appears in stdout, stderr, outputs, the summary or the comment', () => {
    assert.ok(runs.length >= 10, `${runs.length} runs checked`);
    const comments = [...api.comments.values()]
      .flat()
      .map((c) => c.body)
      .join('\n');
    for (const secret of secrets) {
      assert.ok(!comments.includes(secret), 'comment');
      for (const [i, r] of runs.entries()) {
        const where = `run ${i}`;
        assert.ok(!visibleStdout(r.stdout).includes(secret), `${where}: stdout`);
        assert.ok(!r.stderr.includes(secret), `${where}: stderr`);
        assert.ok(!r.outputText.includes(secret), `${where}: GITHUB_OUTPUT`);
        assert.ok(!r.summary.includes(secret), `${where}: summary`);
      }
    }
    // Masks come first: the token, then (where the auth was read) every password and Basic string, before any other line.
    for (const [i, r] of runs.entries()) {
      const lines = r.stdout.split('\n');
      const firstOther = lines.findIndex((l) => !l.startsWith('::add-mask::'));
      const leading = new Set(lines.slice(0, firstOther).map((l) => l.slice('::add-mask::'.length)));
      assert.ok(leading.has(DEFAULT_TOKEN), `run ${i}: github-token masked first`);
      if (r.stdout.includes(`::add-mask::${src.password}`)) {
        for (const secret of secrets)
          assert.ok(leading.has(secret), `run ${i}: every secret masked before any other line`);
      }
    }
  });
});
