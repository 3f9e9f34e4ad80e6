import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { shardOf } from '../../src/plan/shard.js';
import type { PlanEntry } from '../../src/plan/planner.js';
import { ImageBuilder, pushImage, startRegistry, type BuiltManifest, type RunningRegistry } from '../harness/index.js';
import { CLI, runCli } from './support.js';

/**
 * The scale-out examples run for real against loopback registries: the Kubernetes Indexed Job's own shell command
 * for every completion index, and the sharded workflow's shard expression, per-shard lock files and merge step.
 * Only the `npx --package=cdktf-swr@… swr-sync` launcher is stood in for, by a script that runs the compiled CLI.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface LockFileJson {
  version: 1;
  images: Record<string, { source: string; sourceDigest: string; digest: string; platforms: string[] }>;
}

/**
 * Kubernetes' `$(VAR)` expansion of a container's command and args (k8s.io/kubernetes
 * third_party/forked/golang/expansion): `$$` is `$`, `$(NAME)` of a defined variable is its value, anything else
 * is kept as written. The kubelet applies it before `sh` sees the string.
 */
function kubeExpand(input: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== '$' || i + 1 >= input.length) {
      out += input[i];
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i++;
        continue;
      }
      const name = input.slice(i + 2, close);
      out += Object.hasOwn(env, name) ? env[name] : `$(${name})`;
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}

/** Stands in for `npx --yes --package=cdktf-swr@VERSION`: checks those flags, then runs the compiled CLI. */
async function npxStub(): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'scale-out-bin-'));
  const script = [
    '#!/bin/sh',
    '[ "$1" = --yes ] || { echo "npx stub: expected --yes, got $1" >&2; exit 97; }',
    'shift',
    'case "$1" in --package=cdktf-swr@*) shift ;; *) echo "npx stub: expected --package=cdktf-swr@VERSION, got $1" >&2; exit 98 ;; esac',
    '[ "$1" = swr-sync ] || { echo "npx stub: expected swr-sync, got $1" >&2; exit 99; }',
    'shift',
    '# $EXTRA_ARGS is split on purpose: flags the test appends (e.g. --dry-run --json).',
    'exec "$NODE_BIN" "$SWR_SYNC_CLI" "$@" $EXTRA_ARGS',
    '',
  ].join('\n');
  await writeFile(join(bin, 'npx'), script);
  await chmod(join(bin, 'npx'), 0o755);
  return bin;
}

function sh(
  shell: string,
  script: string,
  options: { cwd: string; env: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(shell, ['-c', script], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('close', (code) => res({ code, stdout, stderr })));
}

describe('scale-out examples against real registries', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let dir: string;
  let bin: string;
  let repositories: string[];
  const pushed = new Map<string, BuiltManifest>();

  before(async () => {
    [src, dst, builder] = await Promise.all([startRegistry(), startRegistry(), ImageBuilder.temporary()]);
    [dir, bin] = await Promise.all([mkdtemp(join(tmpdir(), 'scale-out-')), npxStub()]);
    // Repositories until each of 4 shards has work (the shard depends on the host, whose port differs per run).
    repositories = [];
    const covered = new Set<number>();
    for (let i = 0; covered.size < 4 || repositories.length < 8; i++) {
      const repo = `team/app-${i}`;
      repositories.push(repo);
      covered.add(shardOf(`${src.host}/${repo}`, 4));
    }
    for (const repo of repositories) {
      for (const tag of ['v1', 'v2']) {
        const image = await builder.image({ format: 'oci', layers: 1, layerSize: 2048 });
        await pushImage(src, repo, tag, image, builder);
        pushed.set(`${repo}:${tag}`, image);
      }
    }
    await writeFile(
      join(dir, 'auth.json'),
      JSON.stringify({ [src.host]: { insecure: true }, [dst.host]: { insecure: true } }),
    );
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  /** images.json: whole repositories (every tag), image-migrator rule 6. */
  function imagesJson(repos: readonly string[]): string {
    return JSON.stringify(
      Object.fromEntries(repos.map((r) => [`${src.host}/${r}`, `${dst.host}/mirror/${r.replace('/', '-')}`])),
    );
  }

  test("Indexed Job: the manifest's shell command for JOB_COMPLETION_INDEX=0..N-1 splits images.json exactly", async () => {
    const documents = parseAllDocuments(await readFile(join(ROOT, 'examples/kubernetes/indexed-job.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as {
          kind: string;
          spec?: {
            completions: number;
            template: {
              spec: {
                containers: Array<{ command: string[]; args: string[]; env: Array<{ name: string; value?: string }> }>;
              };
            };
          };
        },
    );
    const job = documents.find((d) => d.kind === 'Job')!;
    const completions = job.spec!.completions;
    const container = job.spec!.template.spec.containers[0]!;
    assert.deepEqual(container.command, ['sh', '-c']);

    const workdir = await mkdtemp(join(dir, 'job-'));
    await writeFile(join(workdir, 'images.json'), imagesJson(repositories));
    await copyFile(join(dir, 'auth.json'), join(workdir, 'auth.json'));

    const shards: PlanEntry[][] = [];
    for (let index = 0; index < completions; index++) {
      // The pod's environment: the container's env plus JOB_COMPLETION_INDEX, which the Job controller adds.
      const podEnv: Record<string, string> = { JOB_COMPLETION_INDEX: String(index) };
      for (const e of container.env) podEnv[e.name] = e.value ?? 'from-a-secret';
      const script = kubeExpand(container.args[0]!, podEnv);
      const run = await sh('sh', script, {
        cwd: workdir,
        env: {
          ...podEnv,
          HOME: workdir,
          PATH: `${bin}:${process.env.PATH}`,
          NODE_BIN: process.execPath,
          SWR_SYNC_CLI: CLI,
          EXTRA_ARGS: '--dry-run --json',
        },
      });
      assert.equal(run.code, 0, `index ${index}: ${run.stderr}`);
      shards.push((JSON.parse(run.stdout) as { entries: PlanEntry[] }).entries);
    }

    const all = repositories
      .flatMap((r) => ['v1', 'v2'].map((t) => `${dst.host}/mirror/${r.replace('/', '-')}:${t}`))
      .sort();
    const seen = shards
      .flat()
      .map((e) => e.destination)
      .sort();
    assert.deepEqual(seen, all, 'every image in exactly one shard (none missing, none twice)');
    shards.forEach((entries, index) => {
      assert.ok(
        entries.length > 0,
        `index ${index} has work (shards are 1-based: index ${index} is shard ${index + 1}/${completions})`,
      );
      for (const e of entries) {
        assert.equal(e.status, 'new');
        assert.equal(
          shardOf(`${src.host}/${e.source.slice(src.host.length + 1).split(':')[0]}`, completions),
          index + 1,
        );
      }
      const repos = new Set(entries.map((e) => e.source.split(':').slice(0, -1).join(':')));
      for (const other of shards.filter((_, j) => j !== index)) {
        assert.ok(
          !other.some((e) => repos.has(e.source.split(':').slice(0, -1).join(':'))),
          'a repository stays in one shard',
        );
      }
    });
  });

  test('sharded workflow: shards start from the committed lock, upload their own; the merge step gives the whole lock', async () => {
    const workflow = parseYaml(await readFile(join(ROOT, 'examples/workflows/sharded-sync.yml'), 'utf8')) as {
      jobs: Record<
        string,
        {
          strategy?: { matrix?: { shard?: number[] } };
          steps: Array<{ uses?: string; run?: string; with?: Record<string, string> }>;
        }
      >;
    };
    const matrixJob = Object.values(workflow.jobs).find((j) => j.strategy?.matrix?.shard)!;
    const shardNumbers = matrixJob.strategy!.matrix!.shard!;
    const action = matrixJob.steps.find((s) => s.uses === './node_modules/cdktf-swr')!.with!;
    const upload = matrixJob.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!.with!;
    const mergeJob = Object.values(workflow.jobs).find((j) => j.steps.some((s) => s.run?.includes('lock merge')))!;
    const download = mergeJob.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!.with!;
    const mergeScript = mergeJob.steps.find((s) => s.run?.includes('lock merge'))!.run!;
    const lockName = action['lock-file']!;

    // The committed lock: a full, unsharded sync of the first version of images.json.
    const repos = repositories.slice(0, -1);
    const base = await mkdtemp(join(dir, 'base-'));
    await writeFile(join(base, 'images.json'), imagesJson(repos));
    const first = await runCli([
      'sync',
      '--auth',
      join(dir, 'auth.json'),
      '--images',
      join(base, 'images.json'),
      '--lock',
      join(base, lockName),
      '--log',
      join(base, 'log'),
    ]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const committed = JSON.parse(await readFile(join(base, lockName), 'utf8')) as LockFileJson;
    assert.equal(Object.keys(committed.images).length, repos.length * 2);

    // Then: one tag gets a new image, one repository leaves images.json, another joins it.
    const changedRepo = repos[0]!;
    const removedRepo = repos[1]!;
    const addedRepo = repositories.at(-1)!;
    const changed = await builder.image({ format: 'oci', layers: 1, layerSize: 2048 });
    await pushImage(src, changedRepo, 'v1', changed, builder);
    const current = [...repos.filter((r) => r !== removedRepo), addedRepo];
    const images = imagesJson(current);

    const mergeDir = await mkdtemp(join(dir, 'merge-'));
    for (const n of shardNumbers) {
      // Each matrix job: a checkout (the committed lock), the action with this shard, the upload.
      const workspace = await mkdtemp(join(dir, `shard-${n}-`));
      await writeFile(join(workspace, 'images.json'), images);
      await writeFile(join(workspace, lockName), `${JSON.stringify(committed, null, 2)}\n`);
      const shard = action.shard!.replace('${{ matrix.shard }}', String(n));
      const run = await runCli([
        'sync',
        '--auth',
        join(dir, 'auth.json'),
        '--images',
        join(workspace, action.images!),
        '--shard',
        shard,
        '--lock',
        join(workspace, lockName),
        '--log',
        join(workspace, 'log'),
      ]);
      assert.equal(run.code, 0, `shard ${shard}: ${run.stdout}${run.stderr}`);
      const artifact = join(mergeDir, download.path!, upload.name!.replace('${{ matrix.shard }}', String(n)));
      await mkdir(artifact, { recursive: true });
      await copyFile(join(workspace, upload.path!), join(artifact, lockName));
    }

    // The merge job's own step, as the runner runs a `run:` script.
    const merge = await sh('bash', `set -eo pipefail\n${mergeScript}`, {
      cwd: mergeDir,
      env: {
        HOME: mergeDir,
        PATH: `${bin}:${process.env.PATH}`,
        NODE_BIN: process.execPath,
        SWR_SYNC_CLI: CLI,
        EXTRA_ARGS: '',
      },
    });
    assert.equal(merge.code, 0, merge.stderr);
    const merged = JSON.parse(await readFile(join(mergeDir, 'swr-mirror.lock.json'), 'utf8')) as LockFileJson;

    const destination = (repo: string, tag: string) => `${dst.host}/mirror/${repo.replace('/', '-')}:${tag}`;
    const expected = current.flatMap((r) => ['v1', 'v2'].map((t) => destination(r, t))).sort();
    assert.deepEqual(
      Object.keys(merged.images).sort(),
      expected,
      'the whole job: the removed repository gone, the added one present',
    );
    assert.equal(
      merged.images[destination(changedRepo, 'v1')]!.digest,
      changed.digest,
      'the changed tag has its new digest',
    );
    assert.equal(merged.images[destination(addedRepo, 'v2')]!.digest, pushed.get(`${addedRepo}:v2`)!.digest);
    for (const [dest, entry] of Object.entries(merged.images)) {
      if (dest === destination(changedRepo, 'v1') || dest.includes(addedRepo.replace('/', '-'))) continue;
      assert.deepEqual(entry, committed.images[dest], `${dest} is unchanged, platforms included`);
      assert.ok(entry.platforms.length > 0);
    }
  });
});
