import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from './support.js';

/** `swr-sync config --from-manifests`: the compiled CLI on real manifest files, a directory and stdin. */

const SWR = 'swr.cn-north-4.myhuaweicloud.com';
const T = `${SWR}/test`;
const DIGEST = `sha256:${'e'.repeat(64)}`;

/** What `helm template shop ./chart` prints: `---` + `# Source:` per template, an empty template, a hook. */
const HELM_OUTPUT = `---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-0.1.0
---
# Source: shop/templates/disabled-ingress.yaml
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    app.kubernetes.io/name: shop
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
  template:
    metadata:
      labels:
        app.kubernetes.io/name: shop
    spec:
      serviceAccountName: shop
      initContainers:
        - name: migrate
          image: "ghcr.io/acme/shop-migrate:2.3.0"
      containers:
        - name: shop
          image: "ghcr.io/acme/shop:2.3.0"
          imagePullPolicy: IfNotPresent
        - name: metrics
          image: "quay.io/prometheus/statsd-exporter@${DIGEST}"
---
# Source: shop/templates/cronjob.yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-report
spec:
  schedule: "0 6 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: "ghcr.io/acme/shop:2.3.0"
---
# Source: shop/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: "shop-test-connection"
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: wget
      image: busybox
      command: ['wget']
      args: ['shop:80']
  restartPolicy: Never
`;

/** What `kubectl get deploy,sts -A -o json` prints: a List whose items have their kinds. */
const KUBECTL_LIST = {
  apiVersion: 'v1',
  kind: 'List',
  metadata: { resourceVersion: '' },
  items: [
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'redis', namespace: 'cache', uid: '1f0d6b8e-5a51-4c1e-8d9b-2b3c4d5e6f70' },
      spec: {
        serviceName: 'redis',
        selector: { matchLabels: { app: 'redis' } },
        template: {
          metadata: { labels: { app: 'redis' } },
          spec: { containers: [{ name: 'redis', image: 'redis:7.4' }] },
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'docker.io/library/nginx:1.27' }] },
        },
      },
    },
  ],
};

const HELM_IMAGES = {
  'docker.io/library/busybox:latest': `${T}/busybox:latest`,
  'ghcr.io/acme/shop-migrate:2.3.0': `${T}/shop-migrate:2.3.0`,
  'ghcr.io/acme/shop:2.3.0': `${T}/shop:2.3.0`,
  [`quay.io/prometheus/statsd-exporter@${DIGEST}`]: `${T}/statsd-exporter`,
};
const LIST_IMAGES = {
  'docker.io/library/nginx:1.27': `${T}/nginx:1.27`,
  'docker.io/library/redis:7.4': `${T}/redis:7.4`,
};

describe('swr-sync config --from-manifests', () => {
  let dir: string;
  let tree: string;
  const path = (...parts: string[]) => join(dir, ...parts);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-config-manifests-'));
    await writeFile(path('helm-output.yaml'), HELM_OUTPUT);
    await writeFile(path('list.json'), JSON.stringify(KUBECTL_LIST, null, 2));
    tree = path('tree');
    await mkdir(join(tree, 'apps', 'shop'), { recursive: true });
    await mkdir(join(tree, '.git'), { recursive: true });
    await writeFile(join(tree, 'apps', 'shop', 'all.yml'), HELM_OUTPUT);
    await writeFile(join(tree, 'apps', 'list.JSON'), JSON.stringify(KUBECTL_LIST));
    await writeFile(join(tree, 'README.md'), 'image: not-a-manifest:1\n');
    await writeFile(join(tree, '.git', 'hidden.yaml'), 'kind: Pod\nspec: {containers: [{name: x, image: hidden:1}]}\n');
    await writeFile(join(tree, 'values.yaml'), 'image:\n  repository: ignored\n  tag: "1"\n');
  });

  const configRun = async (args: string[], input?: string) =>
    runCli(['config', '-t', T, ...args], input === undefined ? {} : { input });

  test('Helm template output: comments, --- separators, empty documents, hooks', async () => {
    const out = path('helm.json');
    const run = await configRun(['--from-manifests', path('helm-output.yaml'), '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await readFile(out, 'utf8'), `${JSON.stringify(HELM_IMAGES, Object.keys(HELM_IMAGES).sort(), 2)}\n`);
    assert.match(run.stderr, /4 images from 3 workloads in .*helm-output\.yaml/);
  });

  test('kind: List (kubectl get -o json)', async () => {
    const run = await configRun(['--from-manifests', path('list.json'), '-o', '-']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), LIST_IMAGES);
  });

  test('a directory: *.yaml, *.yml, *.json recursively, hidden entries and other files skipped', async () => {
    const run = await configRun(['--from-manifests', tree, '-o', '-']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ...HELM_IMAGES, ...LIST_IMAGES });
    assert.equal(
      Object.keys(JSON.parse(run.stdout)).join(),
      Object.keys({ ...HELM_IMAGES, ...LIST_IMAGES })
        .sort()
        .join(),
      'sorted',
    );
  });

  test('standard input (-)', async () => {
    const run = await configRun(['--from-manifests', '-', '-o', '-'], HELM_OUTPUT);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), HELM_IMAGES);
    assert.match(run.stderr, /printed images\.json: 4 images from 3 workloads in standard input/);
  });

  test('-n keeps objects of those namespaces; an object without one is in "default"', async () => {
    const shop = await configRun(['--from-manifests', path('list.json'), '-n', 'shop', '-o', '-']);
    assert.deepEqual(JSON.parse(shop.stdout), { 'docker.io/library/nginx:1.27': `${T}/nginx:1.27` });
    const dflt = await configRun(['--from-manifests', tree, '-n', 'default', '-o', '-']);
    assert.deepEqual(JSON.parse(dflt.stdout), HELM_IMAGES);
  });

  test('writes images.json in the working directory, and never replaces an existing one without --force', async () => {
    const first = await configRun(['--from-manifests', path('list.json')]);
    assert.equal(first.code, 0, first.stderr);
    const written = /wrote (\/\S+\/images\.json): /.exec(first.stderr)?.[1];
    assert.ok(written, first.stderr);
    assert.deepEqual(JSON.parse(await readFile(written, 'utf8')), LIST_IMAGES);

    const existing = path('existing.json');
    await writeFile(existing, '{"keep": "me"}\n');
    const refused = await configRun(['--from-manifests', path('list.json'), '-o', existing]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      new RegExp(
        `${existing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already exists: pass --force to replace it, or -o another file`,
      ),
    );
    assert.equal(await readFile(existing, 'utf8'), '{"keep": "me"}\n');
    const forced = await configRun(['--from-manifests', path('list.json'), '-o', existing, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(await readFile(existing, 'utf8')), LIST_IMAGES);
  });

  test('two sources for one destination: written, with a warning naming both', async () => {
    const file = path('conflict.yaml');
    await writeFile(
      file,
      'kind: Pod\nmetadata: {name: a, namespace: x}\nspec:\n  containers:\n  - {name: c, image: nginx:1.27}\n  - {name: d, image: quay.io/mirror/nginx:1.27}\n',
    );
    const run = await configRun(['--from-manifests', file, '-o', '-']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Object.keys(JSON.parse(run.stdout)).length, 2);
    assert.match(
      run.stderr,
      /warning: swr\.cn-north-4\.myhuaweicloud\.com\/test\/nginx:1\.27 would be written by 2 sources: docker\.io\/library\/nginx:1\.27 \(Pod x\/a\), quay\.io\/mirror\/nginx:1\.27 \(Pod x\/a\)/,
    );
  });

  test('invalid images: exit 2 naming file, document, object and container, nothing written; --skip-invalid writes the rest', async () => {
    const file = path('bad-images.yaml');
    await writeFile(
      file,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: web, namespace: shop}',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '      - {name: ok, image: nginx:1.27}',
        '---',
        'apiVersion: batch/v1',
        'kind: CronJob',
        'metadata: {name: nightly, namespace: ops}',
        'spec:',
        '  jobTemplate: {spec: {template: {spec: {initContainers: [{name: setup, image: "Team/Tool:1"}], containers: [{name: run}]}}}}',
        '',
      ].join('\n'),
    );
    const out = path('bad-images.json');
    const run = await configRun(['--from-manifests', file, '-o', out]);
    assert.equal(run.code, 2);
    const name = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(run.stderr, /2 invalid images \(nothing written; --skip-invalid writes the others\)/);
    assert.match(
      run.stderr,
      new RegExp(`${name}, document 2 \\(line 10\\): CronJob ops/nightly, container "run": has no image`),
    );
    assert.match(
      run.stderr,
      new RegExp(
        `${name}, document 2 \\(line 10\\): CronJob ops/nightly, init container "setup": invalid image reference "Team/Tool:1": repository names must be lowercase`,
      ),
    );
    await assert.rejects(readFile(out), { code: 'ENOENT' });

    const skipped = await configRun(['--from-manifests', file, '-o', out, '--skip-invalid']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), { 'docker.io/library/nginx:1.27': `${T}/nginx:1.27` });
    assert.match(skipped.stderr, /warning: skipped: .*CronJob ops\/nightly, container "run": has no image/);
  });

  const bad: Array<{ name: string; args: () => string[]; input?: string; expect: () => RegExp }> = [
    {
      name: 'a YAML syntax error names the file and document',
      args: () => ['--from-manifests', path('syntax.yaml')],
      expect: () => /syntax\.yaml: document 2: not valid YAML or JSON at line 6, column 1 \(MISSING_CHAR\)/,
    },
    {
      name: 'an unrendered Helm chart template',
      args: () => ['--from-manifests', path('chart')],
      expect: () =>
        /chart\/templates\/deployment\.yaml: document 1: not valid YAML or JSON at line 1, column \d+ \(\w+\); it looks like an unrendered Helm or Go template: pass the output of `helm template` instead/,
    },
    {
      name: 'a syntax error on stdin',
      args: () => ['--from-manifests', '-'],
      input: 'kind: Pod\nspec: [\n',
      expect: () => /error: \(stdin\): document 1: not valid YAML or JSON at line 3/,
    },
    {
      name: 'a missing path',
      args: () => ['--from-manifests', path('absent')],
      expect: () => /absent: no such file or directory/,
    },
    {
      name: 'a directory without manifests',
      args: () => ['--from-manifests', path('empty-dir')],
      expect: () => /empty-dir: holds no \*\.yaml, \*\.yml or \*\.json file/,
    },
    {
      name: 'a bad -t',
      args: () => ['--from-manifests', path('list.json'), '-t', 'swr-no-namespace.example.com'],
      expect: () => /-t "swr-no-namespace\.example\.com": names no namespace/,
    },
    {
      name: 'a bad -n',
      args: () => ['--from-manifests', path('list.json'), '-n', 'Shop'],
      expect: () => /-n: "Shop" is not a namespace name/,
    },
    {
      name: '--context with --from-manifests',
      args: () => ['--from-manifests', path('list.json'), '--context', 'x'],
      expect: () => /--context reads a cluster and --from-manifests reads files/,
    },
  ];
  for (const c of bad) {
    test(`exit 2: ${c.name}`, async () => {
      await writeFile(
        path('syntax.yaml'),
        'kind: Pod\nmetadata: {name: a}\n---\nkind: Secret\ndata: {token: "unterminated\n',
      );
      await mkdir(path('chart', 'templates'), { recursive: true });
      await writeFile(
        path('chart', 'templates', 'deployment.yaml'),
        '{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n',
      );
      await mkdir(path('empty-dir'), { recursive: true });
      const run = await runCli(
        ['config', '-t', T, ...c.args(), '-o', '-'],
        c.input === undefined ? {} : { input: c.input },
      );
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, c.expect());
      assert.equal(run.stdout, '', 'nothing printed');
      assert.doesNotMatch(run.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
    });
  }
});
