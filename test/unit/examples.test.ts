import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseAuthJson } from '../../src/config/auth-json.js';
import { parseImagesFile } from '../../src/config/images-file.js';

/** The repository root (tests run compiled, from lib/test/unit/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface WorkflowJob {
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}

/** `${VAR}` names in a text (swr-sync expands them from the environment). */
function variables(text: string): string[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!).sort();
}

describe('examples/workflows/sharded-sync.yml', async () => {
  const workflow = parseYaml(await readFile(join(ROOT, 'examples/workflows/sharded-sync.yml'), 'utf8')) as {
    jobs: Record<string, WorkflowJob>;
  };
  const [matrixId, matrixJob] = Object.entries(workflow.jobs).find(([, j]) => j.strategy?.matrix?.shard !== undefined)!;
  const shards = matrixJob.strategy!.matrix!.shard as number[];
  const action = matrixJob.steps.find((s) => s.uses === './node_modules/cdktf-swr')!;

  it('the matrix is shards 1..N and the action takes `${{ matrix.shard }}/N` of the work', () => {
    const n = shards.length;
    assert.ok(n >= 2);
    assert.deepEqual(
      shards,
      Array.from({ length: n }, (_, i) => i + 1),
      'every shard 1..N once, 1-based',
    );
    assert.equal(action.with?.shard, `\${{ matrix.shard }}/${n}`);
  });

  it('each shard uploads the lock file the action wrote, under a name that carries the shard', () => {
    const lockFile = action.with?.['lock-file'];
    assert.equal(typeof lockFile, 'string');
    const upload = matrixJob.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    assert.ok(upload, 'an upload-artifact step');
    assert.equal(upload.with?.path, lockFile);
    assert.match(String(upload.with?.name), /\$\{\{ matrix\.shard \}\}/);
    assert.ok(matrixJob.steps.indexOf(upload) > matrixJob.steps.indexOf(action), 'uploaded after the sync');
  });

  it('a job after the matrix downloads every shard lock and merges them with `swr-sync lock merge -o`', () => {
    const [, mergeJob] = Object.entries(workflow.jobs).find(([, j]) =>
      j.steps.some((s) => s.run?.includes('swr-sync lock merge')),
    )!;
    const needs = [mergeJob.needs ?? []].flat();
    assert.ok(needs.includes(matrixId), `needs: ${JSON.stringify(needs)} includes the matrix job "${matrixId}"`);
    const upload = matrixJob.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    const download = mergeJob.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    const pattern = String(download.with?.pattern);
    // download-artifact puts each artifact matched by `pattern` in <path>/<artifact name>/.
    const uploadedNames = shards.map((i) => String(upload.with?.name).replace('${{ matrix.shard }}', String(i)));
    const glob = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    for (const name of uploadedNames) assert.match(name, glob, `pattern ${pattern} downloads ${name}`);
    const merge = mergeJob.steps.find((s) => s.run?.includes('swr-sync lock merge'))!.run!;
    const inputs = /lock merge (\S+)/.exec(merge)![1]!;
    const inputGlob = new RegExp(`^${inputs.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    for (const name of uploadedNames) {
      assert.match(
        `${download.with?.path}/${name}/${upload.with?.path}`,
        inputGlob,
        `the merge reads ${name}'s lock file`,
      );
    }
    assert.match(merge, / -o swr-mirror\.lock\.json\b/);
    const commit = mergeJob.steps.find((s) => s.run?.includes('git commit'));
    assert.ok(
      commit && mergeJob.steps.indexOf(commit) > mergeJob.steps.findIndex((s) => s.run === merge),
      'commits after merging',
    );
  });

  it('the inline auth.json parses and every ${VAR} in it is in the step env', () => {
    const auth = String(action.with?.auth);
    const env = Object.fromEntries(Object.keys(action.env ?? {}).map((k) => [k, 'x']));
    assert.ok(parseAuthJson(auth, 'sharded-sync.yml', env).entries.length > 0);
    for (const v of variables(auth)) assert.ok(v in (action.env ?? {}), `${v} is set from a secret`);
  });
});

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template: {
      spec: {
        restartPolicy: string;
        containers: Array<{
          command?: string[];
          args?: string[];
          workingDir?: string;
          env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
          volumeMounts?: Array<{ name: string; mountPath: string }>;
        }>;
        volumes: Array<{
          name: string;
          projected?: {
            sources: Array<{
              configMap?: { name: string; items: Array<{ key: string; path: string }> };
              secret?: { name: string; items: Array<{ key: string; path: string }> };
            }>;
          };
        }>;
      };
    };
  };
}

/** The Job's shell command and its `--shard` expression, read the way the tests of the real run read them. */
function indexedJobShell(job: K8sObject): { script: string; shardCount: number } {
  const container = job.spec!.template.spec.containers[0]!;
  assert.deepEqual(container.command, ['sh', '-c']);
  const script = container.args![0]!;
  const match = /--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/(\d+)"/.exec(script);
  assert.ok(match, `the command passes --shard "$((JOB_COMPLETION_INDEX + 1))/N": ${script}`);
  return { script, shardCount: Number(match[1]) };
}

describe('examples/kubernetes/indexed-job.yaml', async () => {
  const documents = parseAllDocuments(await readFile(join(ROOT, 'examples/kubernetes/indexed-job.yaml'), 'utf8')).map(
    (d) => d.toJS() as K8sObject,
  );
  const byKind = (kind: string) => documents.filter((d) => d.kind === kind);
  const job = byKind('Job')[0]!;
  const configMap = byKind('ConfigMap')[0]!;
  const secret = byKind('Secret')[0]!;

  it('is an Indexed Job whose completions equal N in --shard $((JOB_COMPLETION_INDEX+1))/N', () => {
    assert.deepEqual(
      documents.map((d) => d.kind),
      ['ConfigMap', 'Secret', 'Job'],
    );
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.spec!.completionMode, 'Indexed');
    const { shardCount } = indexedJobShell(job);
    assert.equal(job.spec!.completions, shardCount, 'one pod per shard');
    assert.ok(job.spec!.parallelism! >= 1 && job.spec!.parallelism! <= shardCount);
    assert.equal(job.spec!.template.spec.restartPolicy, 'Never');
    assert.ok(
      documents.every((d) => d.metadata.namespace === job.metadata.namespace),
      'one namespace',
    );
  });

  it('images.json comes from the ConfigMap and auth.json from the Secret, mounted where the command runs', () => {
    const container = job.spec!.template.spec.containers[0]!;
    const { script } = indexedJobShell(job);
    assert.match(script, /--auth auth\.json --images images\.json/);
    const mount = container.volumeMounts!.find((m) => m.mountPath === container.workingDir)!;
    assert.ok(mount, 'the working directory is a mounted volume');
    const sources = job.spec!.template.spec.volumes.find((v) => v.name === mount.name)!.projected!.sources;
    assert.deepEqual(sources.find((s) => s.configMap)!.configMap, {
      name: configMap.metadata.name,
      items: [{ key: 'images.json', path: 'images.json' }],
    });
    assert.deepEqual(sources.find((s) => s.secret)!.secret, {
      name: secret.metadata.name,
      items: [{ key: 'auth.json', path: 'auth.json' }],
    });
    assert.ok(
      parseImagesFile(configMap.data!['images.json']!, 'images.json').length > 0,
      'images.json follows the images-file rules',
    );
  });

  it("auth.json's ${VAR} passwords come from a Secret through the pod env, and it parses with them", () => {
    const container = job.spec!.template.spec.containers[0]!;
    const auth = secret.stringData!['auth.json']!;
    const fromSecrets = new Map(
      (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef!]),
    );
    const needed = variables(auth);
    assert.ok(needed.length > 0);
    for (const v of needed) assert.ok(fromSecrets.has(v), `${v} comes from a Secret`);
    assert.ok(parseAuthJson(auth, 'auth.json', Object.fromEntries(needed.map((v) => [v, 'x']))).entries.length > 0);
  });
});
