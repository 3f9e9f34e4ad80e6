/**
 * `npm run demo`: two real registries on 127.0.0.1 (Debian's CNCF distribution), a multi-arch image with BuildKit
 * attestations built without a daemon and pushed to the first, then `swr-sync copy` into the second (htpasswd
 * auth, credentials from an auth.json that reads the password from the environment), the digest, and a rerun that
 * reports "unchanged". Nothing but loopback is contacted.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuilder, pushImage, startRegistry, verifyImageComplete } from '../test/harness/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, '../src/cli/main.js');

function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

/** Runs swr-sync as a user would, echoing the command (credentials live in the environment, not argv). */
function swrSync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  process.stdout.write(`$ swr-sync ${args.join(' ')}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => done({ code, stdout }));
  });
}

async function main(): Promise<void> {
  step('starting two registries on 127.0.0.1');
  const [source, destination, builder] = await Promise.all([
    startRegistry({ auth: 'none', tmpfs: true }),
    startRegistry({ auth: 'basic', tmpfs: true }),
    ImageBuilder.temporary({ tmpfs: true }),
  ]);
  try {
    process.stdout.write(`source:      http://${source.host} (no auth)\ndestination: http://${destination.host} (htpasswd, user ${destination.username})\n`);

    step('building a multi-arch image (linux/amd64 + linux/arm64, with attestations) and pushing it to the source');
    const image = await builder.multiArch({ format: 'oci', layerSize: 4 * 1024 * 1024, attestation: true, sharedLayers: 1 });
    await pushImage(source, 'demo/app', '1.0', image, builder);
    process.stdout.write(`${source.host}/demo/app:1.0 ${image.digest} (${image.children.length} manifests)\n`);

    const dir = await mkdtemp(join(tmpdir(), 'swr-sync-demo-'));
    const authFile = join(dir, 'auth.json');
    await writeFile(authFile, `${JSON.stringify({
      [source.host]: { insecure: true },
      [destination.host]: { username: destination.username, password: '${DEMO_REGISTRY_PASSWORD}', insecure: true },
    }, null, 2)}\n`);
    const env = { DEMO_REGISTRY_PASSWORD: destination.password! };
    process.stdout.write(`auth.json (image-migrator format; the password comes from $DEMO_REGISTRY_PASSWORD):\n${await readFile(authFile, 'utf8')}`);

    step('copy');
    const copy = ['copy', `${source.host}/demo/app:1.0`, `${destination.host}/mirror/app:1.0`, '--auth', authFile];
    const first = await swrSync(copy, env);
    if (first.code !== 0) throw new Error(`copy failed with exit status ${first.code}`);

    const check = await verifyImageComplete(destination, 'mirror/app', '1.0');
    process.stdout.write(`destination digest ${check.digest} ${check.digest === image.digest ? '= source digest' : '!= source digest'}; missing blobs/manifests: ${check.missing.length}\n`);
    if (check.digest !== image.digest || check.missing.length > 0) throw new Error('destination image is not identical to the source');

    step('copy again: nothing to do');
    const second = await swrSync([...copy, '--json'], env);
    const result = JSON.parse(second.stdout) as { status: string };
    if (second.code !== 0 || result.status !== 'unchanged') throw new Error(`expected "unchanged", got ${result.status}`);

    step('only linux/arm64, as a new index');
    const subset = await swrSync(['copy', `${source.host}/demo/app:1.0`, `${destination.host}/mirror/app:1.0-arm64`, '--auth', authFile, '--platform', 'linux/arm64'], env);
    if (subset.code !== 0) throw new Error('platform copy failed');

    step('SWR login key from an AK/SK pair (dummy values)');
    await swrSync(['login-key', '--project-name', 'cn-north-4'], { HW_ACCESS_KEY: 'DEMOAK0123456789ABCD', HW_SECRET_KEY: 'demo-secret-key-not-real' });
    process.stdout.write('\ndemo finished\n');
  } finally {
    await Promise.all([source.stop(), destination.stop(), builder.dispose()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
