/**
 * `npm run demo`: everything on 127.0.0.1, with Debian's CNCF distribution registries.
 *
 * 1. Two registries: a source without auth, a destination with htpasswd auth.
 * 2. Test images built without a daemon (a multi-arch index with attestations, single images) pushed to the source.
 * 3. An image-migrator style images.json + auth.json (the password read from the environment) → `swr-sync sync`
 *    with a lock file, then a rerun that finds everything unchanged.
 * 4. The cdktf example synthesized against these registries → its swr-mirror.json → `swr-sync plan` and `sync`,
 *    the lock file, a second synth that pins the workload's images by digest, and a rerun: unchanged.
 * 5. `swr-sync copy` of one image with a platform filter, and `swr-sync login-key`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuilder, pushImage, startRegistry } from '../test/harness/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, '../bin/swr-sync.js');
const EXAMPLE = resolve(here, '../../examples/lib/main.js');

function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

/** Runs a program, echoing the command line (credentials live in the environment, never in argv). */
function run(
  label: string,
  program: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; stdout: string }> {
  process.stdout.write(`$ ${label} ${args.join(' ')}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [program, ...args], {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => done({ code, stdout }));
  });
}

function expectOk(result: { code: number | null }, what: string): void {
  if (result.code !== 0) throw new Error(`${what} failed with exit status ${result.code}`);
}

async function main(): Promise<void> {
  step('two registries on 127.0.0.1');
  const [source, destination, builder] = await Promise.all([
    startRegistry({ auth: 'none', tmpfs: true }),
    startRegistry({ auth: 'basic', tmpfs: true }),
    ImageBuilder.temporary({ tmpfs: true }),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'swr-sync-demo-'));
  const swrSync = (args: string[], env: Record<string, string> = {}) =>
    run('swr-sync', CLI, args, { ...secrets, ...env }, dir);
  const secrets = { DEMO_REGISTRY_PASSWORD: destination.password! };
  try {
    process.stdout.write(
      `source:      ${source.host} (no auth)\ndestination: ${destination.host} (htpasswd, user ${destination.username})\nwork dir:    ${dir}\n`,
    );

    step(
      'test images (no Docker daemon): a multi-arch index with attestations and single images, pushed to the source',
    );
    const nginx = await builder.multiArch({
      format: 'oci',
      layerSize: 2 * 1024 * 1024,
      attestation: true,
      sharedLayers: 1,
    });
    const redis = await builder.image({ format: 'docker', layers: 2, layerSize: 1024 * 1024 });
    const api = await builder.image({ format: 'oci', layers: 2, layerSize: 512 * 1024 });
    const tools = await Promise.all(
      [1, 2, 3].map(() => builder.image({ format: 'oci', layers: 1, layerSize: 256 * 1024 })),
    );
    await Promise.all([
      pushImage(source, 'library/nginx', '1.27', nginx, builder),
      pushImage(source, 'library/redis', '7.4', redis, builder),
      pushImage(source, 'platform/api', '2.3', api, builder),
      ...tools.map((t, i) => pushImage(source, 'ops/tools', `v1.${i}.0`, t, builder)),
    ]);
    for (const [name, image] of [
      ['library/nginx:1.27', nginx],
      ['library/redis:7.4', redis],
      ['platform/api:2.3', api],
    ] as const) {
      process.stdout.write(`${source.host}/${name} ${image.digest}\n`);
    }
    process.stdout.write(`${source.host}/ops/tools: v1.0.0 v1.1.0 v1.2.0\n`);

    step('auth.json and images.json as image-migrator users already have them');
    const authFile = join(dir, 'auth.json');
    await writeFile(
      authFile,
      `${JSON.stringify(
        {
          [source.host]: { insecure: true },
          [destination.host]: { username: destination.username, password: '${DEMO_REGISTRY_PASSWORD}', insecure: true },
        },
        null,
        2,
      )}\n`,
    );
    const imagesFile = join(dir, 'images.json');
    await writeFile(
      imagesFile,
      `${JSON.stringify(
        {
          [`${source.host}/ops/tools`]: `${destination.host}/migrated/tools`,
          [`${source.host}/library/redis:7.4`]: `${destination.host}/migrated/redis`,
          [`${source.host}/platform/api:2.3`]: '',
        },
        null,
        2,
      )}\n`,
    );
    process.stdout.write(
      `auth.json (the password comes from $DEMO_REGISTRY_PASSWORD):\n${await readFile(authFile, 'utf8')}images.json (all tags; one tag; an empty destination = --registry/--namespace):\n${await readFile(imagesFile, 'utf8')}`,
    );

    step('sync');
    const migrate = [
      '--auth',
      'auth.json',
      '--images',
      'images.json',
      '--registry',
      destination.host,
      '--namespace',
      'migrated',
      '--lock',
      'migrated.lock.json',
    ];
    expectOk(await swrSync(migrate), 'sync');
    step('sync again: nothing to do');
    expectOk(await swrSync(migrate), 'second sync');

    step('the cdktf example, synthesized against these registries');
    const lockFile = join(dir, 'swr-mirror.lock.json');
    const outdir = join(dir, 'cdktf.out');
    const exampleEnv = {
      CDKTF_OUTDIR: outdir,
      EXAMPLE_SOURCE_REGISTRY: source.host,
      EXAMPLE_DESTINATION: `${destination.host}/acme-platform`,
      EXAMPLE_LOCK_FILE: lockFile,
    };
    expectOk(await run('node examples/lib/main.js', EXAMPLE, [], exampleEnv, dir), 'synth');
    const spec = join(outdir, 'stacks', 'swr-example', 'swr-mirror.json');
    process.stdout.write(`${spec}:\n${await readFile(spec, 'utf8')}`);

    step('plan from the synthesized mirror spec (HEAD requests only)');
    const fromSpec = ['--auth', 'auth.json', '--images', spec, '--lock', 'swr-mirror.lock.json'];
    expectOk(await swrSync(['plan', ...fromSpec]), 'plan');
    step('sync from the mirror spec, writing the lock file');
    expectOk(await swrSync(['sync', ...fromSpec]), 'sync from spec');
    process.stdout.write(`\nswr-mirror.lock.json:\n${await readFile(lockFile, 'utf8')}`);

    step('synth again: the workload now pulls its mirrored images by digest');
    expectOk(await run('node examples/lib/main.js', EXAMPLE, [], exampleEnv, dir), 'second synth');
    const tf = await readFile(join(outdir, 'stacks', 'swr-example', 'cdk.tf.json'), 'utf8');
    for (const image of new Set(tf.match(/"image": "[^"]+"/g) ?? [])) process.stdout.write(`cdk.tf.json ${image}\n`);

    step('plan and sync again: unchanged');
    expectOk(await swrSync(['plan', ...fromSpec]), 'second plan');
    expectOk(await swrSync(['sync', ...fromSpec]), 'second sync from spec');

    step('one image with only linux/arm64 (a new index: its digest differs, and the result says so)');
    expectOk(
      await swrSync([
        'copy',
        `${source.host}/library/nginx:1.27`,
        `${destination.host}/single/nginx:1.27-arm64`,
        '--auth',
        'auth.json',
        '--platform',
        'linux/arm64',
      ]),
      'copy',
    );

    step('SWR login key from an AK/SK pair (dummy values)');
    expectOk(
      await swrSync(['login-key', '--project-name', 'cn-north-4'], {
        HW_ACCESS_KEY: 'DEMOAK0123456789ABCD',
        HW_SECRET_KEY: 'demo-secret-key-not-real',
      }),
      'login-key',
    );
    process.stdout.write('\ndemo finished\n');
  } finally {
    await Promise.all([source.stop(), destination.stop(), builder.dispose()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
