import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  fetchManifest,
  ImageBuilder,
  pushImage,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type BuiltIndex,
  type BuiltManifest,
  type Fault,
  type ProxiedRequest,
  type Proxy,
  type RunningRegistry,
} from '../harness/index.js';
import { runCli, writeAuthJson } from './support.js';

/**
 * How registries with immutable tags refuse a manifest PUT onto a tag that exists: Harbor (on which SWR Enterprise
 * is built) with 412 PRECONDITION, ECR with 400 TAG_INVALID. Whatever the digest: a re-push of the same image is
 * refused too, so a tool that PUTs unchanged tags again fails on its second run.
 */
const REFUSALS: Record<string, (repository: string, tag: string) => Fault> = {
  'Harbor (412 PRECONDITION)': (repository, tag) =>
    refusal(412, 'PRECONDITION', `Failed to process request due to '${repository}:${tag}' configured as immutable.`),
  'ECR (400 TAG_INVALID)': (repository, tag) =>
    refusal(
      400,
      'TAG_INVALID',
      `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
    ),
  // A refusal as an authorization failure: the message must carry the registry's reason, not only "denied".
  'a policy proxy (403 DENIED)': (repository, tag) => refusal(403, 'DENIED', `${repository}:${tag} is immutable`),
};

function refusal(status: number, code: string, message: string): Fault {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ errors: [{ code, message }] }),
  };
}

const MANIFEST_PUT = /^\/v2\/(.+)\/manifests\/([^/?]+)$/;

/** A proxy that makes every tag of `registry` immutable: a manifest PUT onto a tag that exists is refused. */
async function immutableProxy(
  registry: RunningRegistry,
  refuse: (repository: string, tag: string) => Fault,
): Promise<Proxy & { refused: ProxiedRequest[] }> {
  const refused: ProxiedRequest[] = [];
  const proxy = await startProxy({
    target: registry.url,
    fault: async (r) => {
      const put = r.method === 'PUT' ? MANIFEST_PUT.exec(r.path) : null;
      if (!put || put[2]!.includes(':')) return undefined;
      const [, repository, tag] = put as unknown as [string, string, string];
      if ((await fetchManifest(registry, repository, tag)).status !== 200) return undefined;
      refused.push(r);
      return refuse(repository, tag);
    },
  });
  return Object.assign(proxy, { refused });
}

const writes = (p: Proxy) => p.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');

describe('immutable destinations', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let app: BuiltManifest;
  let multi: BuiltIndex;
  let other: BuiltManifest;
  let dir: string;
  const proxies: Proxy[] = [];

  before(async () => {
    [src, dst, builder] = await Promise.all([
      startRegistry({ tmpfs: true }),
      startRegistry({ auth: 'basic', tmpfs: true }),
      ImageBuilder.temporary(),
    ]);
    [app, multi, other] = await Promise.all([
      builder.image({ format: 'oci', layers: 2, layerSize: 8 * 1024 }),
      builder.multiArch({ format: 'oci', layerSize: 8 * 1024, attestation: true }),
      builder.image({ format: 'docker', layers: 1, layerSize: 8 * 1024 }),
    ]);
    await Promise.all([
      pushImage(src, 'lib/app', 'v1', app, builder),
      pushImage(src, 'lib/app', 'v2', app, builder),
      pushImage(src, 'lib/multi', 'v1', multi, builder),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-immutable-'));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  async function sync(proxy: Proxy, name: string, rules: Record<string, string>, extra: string[] = []) {
    const auth = await writeAuthJson([src, { ...dst, host: proxy.host }]);
    const images = join(dir, `${name}.json`);
    await writeFile(images, JSON.stringify(rules));
    const log = join(dir, `${name}.log`);
    const run = await runCli(['sync', '--auth', auth.file, '--images', images, '--log', log, ...extra], {
      env: auth.env,
    });
    return { ...run, log: await readFile(log, 'utf8') };
  }

  for (const [flavour, refuse] of Object.entries(REFUSALS)) {
    describe(flavour, () => {
      let proxy: Proxy & { refused: ProxiedRequest[] };
      const ns = flavour.split(' ')[0]!.toLowerCase();

      before(async () => {
        proxy = await immutableProxy(dst, refuse);
        proxies.push(proxy);
      });

      test('an unchanged tag is never PUT again: a rerun writes nothing (single image, all tags, index with attestations)', async () => {
        const rules = {
          [`${src.host}/lib/app`]: `${proxy.host}/${ns}/app`,
          [`${src.host}/lib/multi:v1`]: `${proxy.host}/${ns}/multi:v1`,
        };
        const first = await sync(proxy, `${ns}-unchanged`, rules);
        assert.equal(first.code, 0, first.stdout + first.stderr);
        assert.match(first.stdout, /Images\(3\) migration finished, 0 images tasks failed/);
        for (const [repository, tag, image] of [
          ['app', 'v1', app],
          ['app', 'v2', app],
          ['multi', 'v1', multi],
        ] as const) {
          assert.deepEqual(await verifyImageComplete(dst, `${ns}/${repository}`, tag), {
            digest: image.digest,
            missing: [],
          });
        }
        proxy.reset();
        const second = await sync(proxy, `${ns}-unchanged`, rules);
        assert.equal(second.code, 0, second.stdout + second.stderr);
        assert.match(second.stdout, /unchanged +3 images already had the source digest/);
        assert.deepEqual(
          writes(proxy).map((r) => `${r.method} ${r.path}`),
          [],
          'nothing written on the rerun',
        );
        assert.deepEqual(proxy.refused, [], 'no overwrite was attempted');
      });

      test('a platform-filtered index is compared as written: the rerun does not PUT it again', async () => {
        const target = `${proxy.host}/${ns}/multi-amd64:v1`;
        const first = await runCli([
          'copy',
          `${src.host}/lib/multi:v1`,
          target,
          '--platform',
          'linux/amd64',
          '--insecure',
          '--json',
          '--dest-authfile',
          await dockerConfig(proxy),
        ]);
        assert.equal(first.code, 0, first.stdout + first.stderr);
        const copied = JSON.parse(first.stdout) as { status: string; digest: string };
        assert.equal(copied.status, 'copied');
        assert.notEqual(copied.digest, multi.digest, 'the filtered index is a new one');
        proxy.reset();
        const second = await runCli([
          'copy',
          `${src.host}/lib/multi:v1`,
          target,
          '--platform',
          'linux/amd64',
          '--insecure',
          '--json',
          '--dest-authfile',
          await dockerConfig(proxy),
        ]);
        assert.equal(second.code, 0, second.stdout + second.stderr);
        const rerun = JSON.parse(second.stdout) as { status: string; digest: string };
        assert.deepEqual(
          { status: rerun.status, digest: rerun.digest },
          { status: 'unchanged', digest: copied.digest },
        );
        assert.deepEqual(
          writes(proxy).map((r) => `${r.method} ${r.path}`),
          [],
        );
        assert.deepEqual(proxy.refused, []);
      });

      test('a tag that exists with another digest fails that image once, naming it and the refusal; no retry loop', async () => {
        await pushImage(dst, `${ns}/conflict`, 'v1', other, builder);
        proxy.reset();
        const started = Date.now();
        const run = await sync(
          proxy,
          `${ns}-conflict`,
          {
            [`${src.host}/lib/app:v1`]: `${proxy.host}/${ns}/conflict:v1`,
            [`${src.host}/lib/multi:v1`]: `${proxy.host}/${ns}/conflict-ok:v1`,
          },
          ['--retries', '5'],
        );
        const elapsed = Date.now() - started;
        assert.equal(run.code, 1, run.stdout + run.stderr);
        const line = run.stdout
          .split('\n')
          .find((l) => l.startsWith(`failed     ${src.host}/lib/app:v1 -> ${proxy.host}/${ns}/conflict:v1: `));
        assert.ok(line, run.stdout);
        const [, status, code] = /\((\d+) (\w+)\)/.exec(flavour)!;
        assert.match(line, new RegExp(`${status}.*${code}.*immutable`));
        assert.match(run.log, /failed .*\/lib\/app:v1 -> .*\/conflict:v1 .*error=/);
        assert.match(run.stdout, /Images\(2\) migration finished, 1 images tasks failed/);
        const tagPuts = proxy.requests.filter(
          (r) => r.method === 'PUT' && r.path === `/v2/${ns}/conflict/manifests/v1`,
        );
        assert.equal(tagPuts.length, 1, 'the refused PUT was not retried');
        assert.equal(proxy.refused.length, 1);
        assert.ok(elapsed < 15_000, `no backoff loop (${elapsed} ms)`);
        assert.equal(
          (await fetchManifest(dst, `${ns}/conflict`, 'v1')).digest,
          other.digest,
          'the existing tag is untouched',
        );
        assert.deepEqual(
          await verifyImageComplete(dst, `${ns}/conflict-ok`, 'v1'),
          { digest: multi.digest, missing: [] },
          'the other image was copied',
        );
      });
    });
  }

  /** A docker config (skopeo authfile) with the destination's login under the proxy's host. */
  async function dockerConfig(proxy: Proxy): Promise<string> {
    const file = join(dir, `config-${proxy.port}.json`);
    await writeFile(
      file,
      JSON.stringify({
        auths: { [proxy.host]: { auth: Buffer.from(`${dst.username}:${dst.password}`).toString('base64') } },
      }),
    );
    return file;
  }
});
