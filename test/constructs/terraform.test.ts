/**
 * Runs Terraform itself on synthesized stacks that need no provider download (only the built-in terraform_data),
 * with no network: TF_IN_AUTOMATION, CHECKPOINT_DISABLE and an empty plugin cache.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TerraformStack } from 'cdktf';
import { MirroredImage, MirrorSet } from '../../constructs/index.js';
import { fullSynth, newStack } from './helpers.js';

const TERRAFORM = process.env.TERRAFORM_BIN ?? '/usr/local/bin/terraform';
const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CLI = join(root, 'lib', 'bin', 'swr-sync.js');
const REGISTRY = '/usr/bin/docker-registry';
const D1 = `sha256:${'a'.repeat(64)}`;

function terraform(dir: string, ...args: string[]): string {
  const run = spawnSync(TERRAFORM, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      TF_INPUT: '0',
      TF_CLI_CONFIG_FILE: '/dev/null',
    },
  });
  assert.equal(run.status, 0, `terraform ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

function synthDir(stack: TerraformStack): string {
  const { dir } = fullSynth(stack);
  terraform(dir, 'init', '-input=false', '-backend=false', '-no-color');
  return dir;
}

describe('terraform on synthesized stacks', () => {
  it('validates and applies copy-on-deploy from the stack directory, with paths relative to the app resolved at synth', (t) => {
    if (!existsSync(TERRAFORM)) return t.skip(`terraform not found at ${TERRAFORM}`);
    const work = mkdtempSync(join(tmpdir(), 'swr-tf-'));
    // The app lives in its own directory with a relative auth file and a relative command, as in the docs' example;
    // terraform runs elsewhere (the synthesized stack directory), as under `cdktf deploy`.
    const app = join(work, 'app');
    mkdirSync(join(app, 'bin'), { recursive: true });
    writeFileSync(join(app, 'auth.json'), '{"auths":{}}');
    const calls = join(work, 'calls.log');
    // The fake records its argv and fails unless the --auth file exists from where terraform runs it.
    writeFileSync(
      join(app, 'bin', 'fake-swr-sync'),
      `#!/bin/sh\necho "$@" >> '${calls}'\nwhile [ $# -gt 0 ]; do if [ "$1" = --auth ]; then [ -f "$2" ] || { echo "no auth file $2 in $(pwd)" >&2; exit 3; }; fi; shift; done\n`,
    );
    chmodSync(join(app, 'bin', 'fake-swr-sync'), 0o755);
    const lock = join(app, 'swr-mirror.lock.json');
    writeFileSync(lock, JSON.stringify({ version: 1, images: {} }));

    const build = () => {
      const cwd = process.cwd();
      process.chdir(app);
      try {
        const stack = newStack('Copy', { providers: false });
        new MirrorSet(stack, 'Mirror', { lockFile: 'swr-mirror.lock.json' });
        new MirroredImage(stack, 'nginx', {
          source: 'nginx',
          tags: ['1.27'],
          destination: '127.0.0.1:5999/mirror/nginx',
          copyOnDeploy: { command: './bin/fake-swr-sync', authFile: 'auth.json', insecure: true },
        });
        return stack;
      } finally {
        process.chdir(cwd);
      }
    };

    const dir = synthDir(build());
    assert.notEqual(dir, app);
    terraform(dir, 'validate', '-no-color');
    terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color');
    const auth = join(app, 'auth.json');
    assert.equal(
      readFileSync(calls, 'utf8'),
      `copy docker.io/library/nginx:1.27 127.0.0.1:5999/mirror/nginx:1.27 --auth ${auth} --insecure\n`,
    );
    const state = readFileSync(join(dir, 'terraform.tfstate'), 'utf8');
    assert.doesNotMatch(state, /auth\.json|password/, 'the state holds triggers, not the command or credentials');

    terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color');
    assert.equal(readFileSync(calls, 'utf8').split('\n').length - 1, 1, 'unchanged inputs: no second copy');

    // A new lock entry pins the source digest: the trigger changes and the copy runs again, by digest.
    writeFileSync(
      lock,
      JSON.stringify({
        version: 1,
        images: {
          '127.0.0.1:5999/mirror/nginx:1.27': {
            source: 'docker.io/library/nginx:1.27',
            sourceDigest: D1,
            digest: D1,
            platforms: [],
          },
        },
      }),
    );
    const dir2 = fullSynth(build()).dir;
    spawnSync('cp', ['-r', join(dir, '.terraform'), join(dir, 'terraform.tfstate'), dir2]);
    terraform(dir2, 'apply', '-auto-approve', '-input=false', '-no-color');
    assert.equal(
      readFileSync(calls, 'utf8').split('\n')[1],
      `copy docker.io/library/nginx@${D1} 127.0.0.1:5999/mirror/nginx:1.27 --auth ${auth} --insecure`,
    );
  });

  it('copies between loopback registries on terraform apply with the real swr-sync', async (t) => {
    if (!existsSync(TERRAFORM)) return t.skip(`terraform not found at ${TERRAFORM}`);
    if (!existsSync(REGISTRY)) return t.skip(`docker-registry not found at ${REGISTRY}`);
    if (!existsSync(CLI)) return t.skip(`swr-sync CLI not built at ${CLI}`);
    const harness = await import('../harness/index.js');
    const builder = await harness.ImageBuilder.temporary();
    const src = await harness.startRegistry();
    const dst = await harness.startRegistry();
    try {
      const image = await builder.image({ format: 'oci', seed: 'copy-on-deploy' });
      await harness.pushImage(src, 'demo/app', '1.0', image, builder);
      const stack = newStack('Loopback', { providers: false });
      new MirrorSet(stack, 'Mirror', { lockFile: join(tmpdir(), 'no-such-dir-swr', 'lock.json') });
      new MirroredImage(stack, 'app', {
        source: `${src.host}/demo/app`,
        tags: ['1.0'],
        destination: `${dst.host}/mirror/app`,
        copyOnDeploy: { command: `${process.execPath} ${CLI}`, insecure: true },
      });
      const dir = synthDir(stack);
      terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color');
      const copied = await harness.fetchManifest(dst, 'mirror/app', '1.0');
      assert.equal(copied.status, 200);
      assert.equal(copied.digest, image.digest);
    } finally {
      await Promise.all([src.stop(), dst.stop(), builder.dispose()]);
    }
  });
});
