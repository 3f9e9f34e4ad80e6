import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseImagesFile } from '../../src/config/images-file.js';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const compiled = join(root, 'examples', 'lib', 'main.js');

/** `npm run build:examples`, when the compiled example is missing or older than its source or the library. */
function buildExample(): void {
  const newest = Math.max(
    statSync(join(root, 'examples', 'main.ts')).mtimeMs,
    statSync(join(root, 'lib', 'constructs', 'index.js')).mtimeMs,
  );
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newest) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'examples', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(run.status, 0, `tsc -p examples/tsconfig.json failed:\n${run.stdout}${run.stderr}`);
}

describe('examples/ app', () => {
  it('synthesizes fully, offline, with the library imported as `cdktf-swr`', () => {
    buildExample();
    const outdir = mkdtempSync(join(tmpdir(), 'swr-example-'));
    const run = spawnSync(process.execPath, [compiled], {
      encoding: 'utf8',
      env: { ...process.env, CDKTF_OUTDIR: outdir, EXAMPLE_LOCK_FILE: join(outdir, 'none.lock.json') },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(readFileSync(compiled, 'utf8'), /from 'cdktf-swr'/);
    const dir = join(outdir, 'stacks', 'swr-example');
    const config = JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'));
    const spec = JSON.parse(readFileSync(join(dir, 'swr-mirror.json'), 'utf8'));

    assert.equal(Object.keys(config.resource.huaweicloud_swr_organization).length, 1);
    assert.equal(
      Object.values<{ users: unknown[] }>(config.resource.huaweicloud_swr_organization_permissions)[0]!.users.length,
      2,
    );
    assert.equal(Object.keys(config.resource.huaweicloud_swr_repository).length, 1);
    assert.equal(Object.keys(config.resource.huaweicloud_swr_image_retention_policy).length, 1);
    const secrets = Object.values<{ type: string; metadata: { name: string } }>(config.resource.kubernetes_secret_v1);
    assert.deepEqual(secrets.map((s) => s.metadata.name).sort(), ['harbor-pull', 'swr-pull', 'swr-pull-ci']);
    assert.equal(Object.keys(config.resource.huaweicloud_swr_temporary_login_command).length, 1);
    assert.equal(Object.keys(config.resource.huaweicloud_swr_repository_tag).length, 1);
    assert.equal(Object.keys(config.resource.huaweicloud_swr_image_manual_sync).length, 1);
    assert.equal(Object.keys(config.resource.huaweicloud_swr_image_auto_sync).length, 1);
    for (const data of [
      'huaweicloud_swr_image_tags',
      'huaweicloud_swr_repositories',
      'huaweicloud_swr_organizations',
      'huaweicloud_swr_sync_regions',
    ]) {
      assert.equal(Object.keys(config.data[data]).length, 1, data);
    }
    assert.match(config.output.web_stable_digest.value, /data\.huaweicloud_swr_image_tags\..*\.image_tags/);
    assert.ok(secrets.every((s) => s.type === 'kubernetes.io/dockerconfigjson'));
    assert.doesNotMatch(JSON.stringify(config.resource.kubernetes_secret_v1), /"password" = "/, 'no literal password');

    const deployment = Object.values<{
      spec: { template: { metadata: { annotations: Record<string, string>; labels: Record<string, string> } } };
    }>(config.resource.kubernetes_deployment_v1)[0]!;
    const pod = deployment.spec.template.metadata;
    assert.equal(pod.annotations['yangtse.io/pod-with-eip'], 'true');
    assert.equal(pod.labels['virtual-kubelet.io/burst-to-cci'], 'localPrefer');
    const rules = JSON.parse(pod.annotations['coordinator.cci.io/image-replacement']!);
    assert.deepEqual(
      rules.map((r: { repositoryPrefix: string }) => r.repositoryPrefix),
      ['harbor.example.com/library', 'harbor.example.com/platform'],
    );

    assert.equal(spec.version, 1);
    assert.equal(spec.stack, 'swr-example');
    assert.deepEqual(
      spec.images.map((i: { id: string }) => i.id),
      ['nginx', 'redis', 'api'],
    );
    assert.equal(spec.images[0].destination, 'swr.cn-north-4.myhuaweicloud.com/acme-platform/nginx');
    assert.match(run.stderr, /warn: \[swr-example\/nginx\] .* has no entry for/);
  });

  it('takes the loopback demo knobs for sources and destination', () => {
    buildExample();
    const outdir = mkdtempSync(join(tmpdir(), 'swr-example-'));
    const run = spawnSync(process.execPath, [compiled], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDKTF_OUTDIR: outdir,
        EXAMPLE_SOURCE_REGISTRY: '127.0.0.1:5000',
        EXAMPLE_DESTINATION: '127.0.0.1:5001/mirror',
      },
    });
    assert.equal(run.status, 0, run.stderr);
    const specFile = join(outdir, 'stacks', 'swr-example', 'swr-mirror.json');
    const spec = JSON.parse(readFileSync(specFile, 'utf8'));
    // swr-sync reads what the constructs write: the same rules come back.
    const rules = parseImagesFile(readFileSync(specFile, 'utf8'), specFile);
    assert.deepEqual(
      rules.map((r) => [
        r.id,
        `${r.source.registry}/${r.source.repository}`,
        r.selection,
        r.destinations.map((d) => `${d.registry}/${d.repository}`),
      ]),
      [
        ['nginx', '127.0.0.1:5000/library/nginx', { kind: 'tags', tags: ['1.27'] }, ['127.0.0.1:5001/mirror/nginx']],
        ['redis', '127.0.0.1:5000/library/redis', { kind: 'tags', tags: ['7.4'] }, ['127.0.0.1:5001/mirror/redis']],
        ['api', '127.0.0.1:5000/platform/api', { kind: 'tags', tags: ['2.3'] }, ['127.0.0.1:5001/mirror/api']],
      ],
    );
    assert.deepEqual(rules[0]!.platforms, [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    assert.deepEqual(
      spec.images.map((i: { source: string; destination: string }) => [i.source, i.destination]),
      [
        ['127.0.0.1:5000/library/nginx', '127.0.0.1:5001/mirror/nginx'],
        ['127.0.0.1:5000/library/redis', '127.0.0.1:5001/mirror/redis'],
        ['127.0.0.1:5000/platform/api', '127.0.0.1:5001/mirror/api'],
      ],
    );
  });

  /** Runs the compiled example (optionally rewritten to import another framework) and returns its outputs. */
  function synthWith(env: Record<string, string>, framework: 'cdktf' | 'cdktn' = 'cdktf') {
    buildExample();
    let main = compiled;
    if (framework === 'cdktn') {
      // The documented migration: the app imports 'cdktn' where it imported 'cdktf'; nothing else changes.
      main = join(root, 'examples', 'lib', `main.cdktn-${process.pid}.js`);
      writeFileSync(main, readFileSync(compiled, 'utf8').replace(/from 'cdktf';/g, "from 'cdktn';"));
    }
    const outdir = mkdtempSync(join(tmpdir(), 'swr-example-'));
    try {
      const run = spawnSync(process.execPath, [main], {
        encoding: 'utf8',
        env: { ...process.env, CDKTF_OUTDIR: outdir, EXAMPLE_LOCK_FILE: join(outdir, 'none.lock.json'), ...env },
      });
      assert.equal(run.status, 0, run.stderr);
      const dir = join(outdir, 'stacks', 'swr-example');
      const config = JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'));
      delete config['//']; // framework name and version
      return {
        config,
        spec: readFileSync(join(dir, 'swr-mirror.json'), 'utf8'),
        manifest: JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')),
        stderr: run.stderr,
        stdout: run.stdout,
      };
    } finally {
      if (main !== compiled) rmSync(main, { force: true });
    }
  }

  it('synthesizes the same configuration in a CDK Terrain (cdktn) app, with its own Kubernetes bindings', () => {
    const cdktf = synthWith({ CDKTF_SWR_FRAMEWORK: 'cdktf' });
    // No variable: the library picks the framework the app has loaded (the app imports cdktn first).
    const cdktn = synthWith({ CDKTF_SWR_FRAMEWORK: '' }, 'cdktn');
    assert.match(cdktf.stdout, /\(cdktf, prebuilt kubernetes bindings\)/);
    assert.match(cdktn.stdout, /\(cdktn, builtin kubernetes bindings\)/);
    assert.equal(cdktn.manifest.version, '0.24.0', 'synthesized by cdktn');
    assert.notEqual(cdktf.manifest.version, cdktn.manifest.version);
    assert.deepEqual(cdktn.config, cdktf.config);
    assert.equal(cdktn.spec, cdktf.spec);
    assert.ok(cdktn.config.resource.kubernetes_deployment_v1 && cdktn.config.resource.kubernetes_secret_v1);
    assert.match(cdktn.stderr, /warn: \[swr-example\/nginx\] .* has no entry for/);
  });

  it("writes the same JSON with the library's own Kubernetes bindings as with @cdktf/provider-kubernetes", () => {
    const prebuilt = synthWith({ CDKTF_SWR_FRAMEWORK: 'cdktf' });
    const builtin = synthWith({ CDKTF_SWR_FRAMEWORK: 'cdktf', CDKTF_SWR_KUBERNETES: 'builtin' });
    assert.match(builtin.stdout, /\(cdktf, builtin kubernetes bindings\)/);
    assert.deepEqual(builtin.config, prebuilt.config);
  });

  it('names the variable to set when the app runs on the other framework than the library picked', () => {
    const index = join(root, 'lib', 'constructs', 'index.js');
    const script = [
      "import { App, TerraformStack } from 'cdktn';",
      `const { SwrOrganization } = await import(${JSON.stringify(index)});`,
      "new SwrOrganization(new TerraformStack(new App(), 's'), 'org', { name: 'acme' });",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CDKTF_SWR_FRAMEWORK: 'cdktf' },
    });
    assert.notEqual(run.status, 0);
    assert.match(
      run.stderr,
      /FrameworkMismatchError: s\/org: cdktf-swr runs on cdktf, but this stack is a cdktn TerraformStack; set CDKTF_SWR_FRAMEWORK=cdktn/,
    );
    assert.match(run.stderr, /code: 'ERR_FRAMEWORK_MISMATCH'/);
  });
});
