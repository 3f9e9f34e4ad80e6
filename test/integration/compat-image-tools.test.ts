import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ImageBuilder,
  listTags,
  fetchManifest,
  pushImage,
  startRegistry,
  type BuiltIndex,
  type BuiltManifest,
  type RunningRegistry,
} from '../harness/index.js';
import { CASES, DST_PASSWORD, DST_USER, RBAC_TAGS, REGEX_TAGS, type Ctx, type SyncJson } from './compat-cases.js';
import { runCli } from './support.js';

/** Runs the cases of compat-cases.ts (image-syncer's and image-migrator's rules, files and flags); see there. */
describe(
  'compatibility with image-syncer and image-migrator: their rules, files and flags on real registries',
  { concurrency: 3 },
  () => {
    let src: RunningRegistry;
    let dst: RunningRegistry;
    let builder: ImageBuilder;
    let base: string;
    const digests = new Map<string, string>();
    const indexes = new Map<string, BuiltIndex>();

    before(async () => {
      [src, dst, builder] = await Promise.all([
        startRegistry({ tmpfs: true }),
        startRegistry({ auth: 'basic', username: DST_USER, password: DST_PASSWORD, tmpfs: true }),
        ImageBuilder.temporary({ tmpfs: true }),
      ]);
      base = await mkdtemp(join(tmpdir(), 'swr-sync-compat-'));
      const shared = await builder.layer({ size: 2048, seed: 'compat-base' });
      const image = (seed: string, platform = { os: 'linux', architecture: 'amd64' }) =>
        builder.image({ format: 'docker', layers: [shared], layerSize: 512, seed, platform });
      const pushes: Array<[string, string, BuiltManifest | BuiltIndex]> = [];
      for (const tag of ['1.0.0', '2.7.3', '3.0.0']) pushes.push(['coreos/etcd', tag, await image(`etcd-${tag}`)]);
      for (const tag of RBAC_TAGS) pushes.push(['coreos/kube-rbac-proxy', tag, await image(`rbac-${tag}`)]);
      pushes.push(['knative-releases/github.com/knative/build/cmd/creds-init', 'v1', await image('creds-init')]);
      const regexImage = await image('regex');
      for (const tag of REGEX_TAGS) pushes.push(['regex/test', tag, regexImage]);
      pushes.push(['single/amd64', '1.0', await image('single-amd64')]);
      pushes.push(['solo', '1', await image('solo')]);
      pushes.push([
        'single/arm64',
        '1.0',
        await builder.image({
          format: 'oci',
          layers: [shared],
          seed: 'single-arm64',
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        }),
      ]);
      const multi = await builder.multiArch({ format: 'oci', layerSize: 512, seed: 'compat-multi' });
      pushes.push(['multi/app', '1.0', multi]);
      indexes.set('multi/app:1.0', multi);
      for (const [repo, tag, target] of pushes) {
        await pushImage(src, repo, tag, target, builder);
        digests.set(`${repo}:${tag}`, target.digest);
      }
    });
    after(async () => {
      await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
    });

    test(`at least 45 cases, ids unique (${CASES.length})`, () => {
      assert.ok(CASES.length >= 45, String(CASES.length));
      assert.equal(new Set(CASES.map((c) => c.id)).size, CASES.length);
    });

    for (const [i, k] of CASES.entries()) {
      test(`${k.id} (${k.tool}, ${k.from}): ${k.name}`, async () => {
        const dir = join(base, k.id);
        await mkdir(dir);
        const ctx: Ctx = {
          dst,
          S: src.host,
          D: dst.host,
          ns: `c${String(i).padStart(2, '0')}`,
          dir,
          digest: (ref) => {
            const d = digests.get(ref);
            assert.ok(d, `seeded ${ref}`);
            return d;
          },
          index: (ref) => indexes.get(ref)!,
        };
        const write = async (name: string, content: Record<string, unknown> | string) => {
          await writeFile(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
          return join(dir, name);
        };
        const imagesFile = k.images ? await write(k.imagesName ?? 'images.json', k.images(ctx)) : undefined;
        const authFile = await write(
          k.authName ?? 'auth.json',
          k.auth
            ? k.auth(ctx)
            : {
                [ctx.S]: { insecure: true },
                [ctx.D]: { username: DST_USER, password: '${DST_PASSWORD}', insecure: true },
              },
        );
        if (k.id === 'S-config') {
          await write(
            'config.yaml',
            [
              'auth:',
              `  ${ctx.S}:`,
              '    insecure: true',
              `  ${ctx.D}:`,
              `    username: ${DST_USER}`,
              `    password: ${DST_PASSWORD}`,
              '    insecure: true',
              'images:',
              `  ${ctx.S}/coreos/kube-rbac-proxy:v1.0: ${ctx.D}/${ctx.ns}/kube-rbac-proxy`,
              `  ${ctx.S}/coreos/kube-rbac-proxy:v1.0,v2.0: ${ctx.D}/${ctx.ns}/kube-rbac-proxy`,
              '',
            ].join('\n'),
          );
        }
        if (k.id === 'S-config-json') {
          await write('config.json', {
            auth: {
              [ctx.S]: { insecure: true },
              [ctx.D]: { username: DST_USER, password: '$DST_PASSWORD', insecure: true },
            },
            images: { [`${ctx.S}/coreos/etcd:3.0.0`]: `${ctx.D}/${ctx.ns}/etcd` },
          });
        }
        const args = k.raw
          ? (k.args?.(ctx) ?? [])
          : [
              'sync',
              '--images',
              imagesFile!,
              '--auth',
              authFile,
              '--json',
              '--log',
              join(dir, 'run.log'),
              ...(k.args?.(ctx) ?? []),
            ];
        const env = { DST_PASSWORD, ...(k.env?.(ctx) ?? {}) };
        let run = await runCli(args, { env });
        if (k.twice) run = await runCli(args, { env });
        const expect = k.expect;
        const output = run.stdout + run.stderr;
        assert.equal(run.code, expect.exit ?? 0, output);
        let json: SyncJson | undefined;
        if (args.includes('--json') && run.stdout.trim().startsWith('{')) json = JSON.parse(run.stdout) as SyncJson;
        if (expect.generateFailed !== undefined)
          assert.equal(json?.summary.generateFailed, expect.generateFailed, output);
        if (expect.skipped !== undefined) assert.equal(json?.summary.skipped, expect.skipped, output);
        if (expect.output) assert.match(output, expect.output);
        for (const [repo, tags] of Object.entries(expect.repos ?? {})) {
          const found = (await listTags(dst, `${ctx.ns}/${repo}`)).sort();
          assert.deepEqual(found, Object.keys(tags).sort(), `tags of ${ctx.ns}/${repo}`);
          for (const [tag, sourceRef] of Object.entries(tags)) {
            const m = await fetchManifest(dst, `${ctx.ns}/${repo}`, tag);
            assert.equal(m.digest, ctx.digest(sourceRef), `${ctx.ns}/${repo}:${tag} holds the digest of ${sourceRef}`);
          }
        }
        for (const repo of expect.absent ?? [])
          assert.deepEqual(await listTags(dst, `${ctx.ns}/${repo}`), [], `${ctx.ns}/${repo} has no tag`);
        for (const [repo, sourceRef] of Object.entries(expect.byDigest ?? {})) {
          const m = await fetchManifest(dst, `${ctx.ns}/${repo}`, ctx.digest(sourceRef));
          assert.equal(m.status, 200, `${ctx.ns}/${repo}@${sourceRef}`);
        }
        await expect.check?.(ctx, run, json);
      });
    }
  },
);
