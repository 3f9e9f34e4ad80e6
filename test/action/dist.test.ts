import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { parseAuthJson } from '../../src/config/auth-json.js';
import { buildOptions, FORBIDDEN_INPUTS, OUTFILE, ROOT } from '../../scripts/build-action.js';
import { readActionYml } from './support.js';

/** The committed bundle must be what the sources build to now (esbuild's output is deterministic). */
test('dist/index.js is the bundle of the current sources (not stale)', async () => {
  const result = await build({ ...buildOptions(), write: false });
  const [output] = result.outputFiles;
  assert.ok(output, 'esbuild wrote no output');
  const committed = await readFile(join(ROOT, OUTFILE)).catch(() => Buffer.alloc(0));
  assert.ok(
    Buffer.compare(Buffer.from(output.contents), committed) === 0,
    `${OUTFILE} is stale (${committed.length} bytes committed, ${output.contents.length} built from the sources): run \`npm run build:action\` and commit ${OUTFILE}`,
  );
  const inputs = Object.keys(result.metafile?.inputs ?? {});
  assert.ok(inputs.includes('src/action/main.ts'));
  assert.deepEqual(
    inputs.filter((f) => FORBIDDEN_INPUTS.some((re) => re.test(f))),
    [],
    'the action must not bundle the CLI, log-update or commander',
  );
  assert.ok(
    inputs.some((f) => f.startsWith('node_modules/@actions/core/')) &&
      inputs.some((f) => f.startsWith('node_modules/@actions/github/')),
    '@actions/* bundled in',
  );
  assert.ok(!inputs.some((f) => /node_modules\/.+\/node_modules\/undici\//.test(f)), 'one undici in the bundle');
});

test('action.yml: node24 runs dist/index.js; the inputs, defaults and outputs of docs/action.md', async () => {
  const yml = await readActionYml();
  assert.deepEqual(yml.runs, { using: 'node24', main: 'dist/index.js' });
  const defaults = Object.fromEntries(Object.entries(yml.inputs).map(([name, spec]) => [name, spec.default]));
  assert.deepEqual(defaults, {
    mode: 'sync',
    images: undefined,
    manifest: undefined,
    auth: undefined,
    registry: undefined,
    namespace: undefined,
    workers: '7',
    retries: '3',
    platforms: undefined,
    'lock-file': undefined,
    shard: undefined,
    // Beyond the contract's list (docs/architecture.md), each as its CLI flag.
    'with-referrers': 'false',
    'verify-destination': 'false',
    rate: undefined,
    bandwidth: undefined,
    timeout: undefined,
    http2: 'true',
    summary: 'true',
    comment: 'false',
    'github-token': '${{ github.token }}',
  });
  const outputs = Object.keys((yml as unknown as { outputs: Record<string, unknown> }).outputs);
  assert.deepEqual(outputs, ['digests', 'digest', 'images', 'changed', 'plan']);
});

test('examples/workflows: the action runs from the installed npm package, given only declared inputs, and its inline auth parses', async () => {
  const { inputs } = await readActionYml();
  const packageVersion = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
  const dir = join(ROOT, 'examples', 'workflows');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml')).sort();
  assert.deepEqual(files, ['deploy.yml', 'pull-request.yml', 'sharded-sync.yml']);
  for (const file of files) {
    const workflow = parseYaml(await readFile(join(dir, file), 'utf8')) as {
      jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>;
    };
    const steps = Object.values(workflow.jobs)
      .flatMap((j) => j.steps)
      .filter((s) => s.uses === './node_modules/cdktf-swr');
    assert.equal(steps.length, 1, file);
    // The action runs from the installed npm package: an earlier step of its job installs it, at this release.
    const job = Object.values(workflow.jobs).find((j) => j.steps.includes(steps[0]!))! as {
      steps: Array<{ uses?: string; run?: string }>;
    };
    const installs = job.steps
      .slice(0, job.steps.indexOf(steps[0]!))
      .filter((s) => s.run && /\bnpm ci\b|\bnpm install\b.*\bcdktf-swr@/.test(s.run));
    assert.equal(installs.length, 1, `${file}: one step before the action installs cdktf-swr`);
    const text = await readFile(join(dir, file), 'utf8');
    for (const [, version] of text.matchAll(/cdktf-swr@([^\s'"]+)/g))
      assert.equal(version, packageVersion, `${file}: cdktf-swr@${version} is this release`);
    for (const step of steps) {
      const given = step.with ?? {};
      assert.deepEqual(
        Object.keys(given).filter((k) => !(k in inputs)),
        [],
        `${file}: undeclared inputs`,
      );
      assert.ok(
        given.manifest === 'cdktf.out' || given.images === 'images.json',
        `${file}: reads the synthesized cdktf.out or an images.json`,
      );
      const env = { HW_ACCESS_KEY: 'AK', SWR_LOGIN_KEY: 'key', HARBOR_ROBOT_TOKEN: 'token' };
      assert.ok(parseAuthJson(String(given.auth), file, env).entries.length > 0);
    }
  }
});
