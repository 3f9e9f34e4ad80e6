import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestCertificates, type TestCertificates } from '../harness/tls.js';
import { DEBUG_IMAGE, MIGRATE_DIGEST, startKubeApiServer, type KubeApiServer } from '../harness/kube-api-server.js';
import { runCli, type CliRun } from './support.js';

/**
 * `swr-sync config` against a Kubernetes API server: the real @kubernetes/client-node, through a kubeconfig written
 * here, talking HTTPS to a loopback server that serves recorded list responses and checks the bearer token.
 */

const SWR = 'swr.cn-north-4.myhuaweicloud.com';
const T = `${SWR}/test`;
const ALL_IMAGES = {
  'docker.io/bitnami/kubectl:1.31': `${T}/kubectl:1.31`,
  'docker.io/library/busybox:1.36': `${T}/busybox:1.36`,
  'docker.io/library/busybox:latest': `${T}/busybox:latest`,
  'docker.io/library/nginx:1.27': `${T}/nginx:1.27`,
  'docker.io/library/postgres:16.4': `${T}/postgres:16.4`,
  [`ghcr.io/acme/migrate@${MIGRATE_DIGEST}`]: `${T}/migrate`,
  'quay.io/prometheus/node-exporter:v1.8.2': `${T}/node-exporter:v1.8.2`,
  'registry.k8s.io/coredns/coredns:v1.11.3': `${T}/coredns:v1.11.3`,
  'registry.k8s.io/kube-proxy:v1.31.1': `${T}/kube-proxy:v1.31.1`,
};
const WORKLOAD_PATHS = [
  '/apis/apps/v1/deployments',
  '/apis/apps/v1/statefulsets',
  '/apis/apps/v1/daemonsets',
  '/apis/batch/v1/jobs',
  '/apis/batch/v1/cronjobs',
  '/api/v1/pods',
];

interface KubeconfigSpec {
  server: string;
  token?: string;
  ca?: string | undefined;
  context?: string;
  cluster?: string;
  currentContext?: string | null;
  insecure?: boolean;
}

function kubeconfigText(spec: KubeconfigSpec): string {
  const context = spec.context ?? 'prod';
  const cluster = spec.cluster ?? 'prod-cluster';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${spec.server}`,
    ...(spec.ca ? [`    certificate-authority: ${spec.ca}`] : []),
    ...(spec.insecure ? ['    insecure-skip-tls-verify: true'] : []),
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${cluster}`,
    '    user: ci-reader',
    'users:',
    '- name: ci-reader',
    '  user:',
    `    token: ${spec.token ?? 'none'}`,
    ...(spec.currentContext === null ? [] : [`current-context: ${spec.currentContext ?? context}`]),
    '',
  ].join('\n');
}

describe('swr-sync config: from a cluster through the Kubernetes API', () => {
  let certs: TestCertificates;
  let server: KubeApiServer;
  let dir: string;
  let kubeconfig: string;
  const token = `canary-token-${randomBytes(16).toString('hex')}`;
  const outputs: CliRun[] = [];

  /** Runs the CLI and keeps the output for the no-token check. */
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CliRun> => {
    const run = await runCli(args, { env });
    outputs.push(run);
    return run;
  };
  const file = () => join(dir, `images-${randomBytes(4).toString('hex')}.json`);

  before(async () => {
    certs = await makeTestCertificates();
    server = await startKubeApiServer({ token, tls: certs });
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-config-cluster-'));
    kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigText({ server: server.url, token, ca: certs.caPath }));
  });
  after(async () => {
    await server?.stop();
  });

  test('all namespaces: every workload kind, paged lists, images.json sorted and deduplicated', async () => {
    server.requests.length = 0;
    const out = file();
    const run = await cli(['config', '-t', T, '-k', kubeconfig, '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    const text = await readFile(out, 'utf8');
    assert.deepEqual(JSON.parse(text), ALL_IMAGES);
    assert.deepEqual(Object.keys(JSON.parse(text)), Object.keys(ALL_IMAGES).sort(), 'keys sorted');
    assert.ok(text.endsWith('}\n'));
    assert.ok(!text.includes(DEBUG_IMAGE.split(':')[0] as string), 'ephemeral containers are not collected');
    assert.match(
      run.stderr,
      new RegExp(
        `wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 9 images from 11 workloads in context "prod" \\(${server.url}\\)`,
      ),
    );

    assert.ok(
      server.requests.every((r) => r.authorized && r.method === 'GET'),
      'every request carried the bearer token',
    );
    assert.deepEqual(
      [...new Set(server.requests.map((r) => r.path))].sort(),
      [...WORKLOAD_PATHS].sort(),
      'cluster-wide lists only',
    );
    // The server sends at most 2 items per page: 5 pods take three requests, following `continue`.
    const pods = server.requests.filter((r) => r.path === '/api/v1/pods');
    assert.equal(pods.length, 3);
    assert.equal(pods[0]?.query.limit, '500');
    assert.ok(pods[0]?.query.continue === undefined && pods[1]?.query.continue && pods[2]?.query.continue);
  });

  test('-n: only the namespaces named, through namespaced paths', async () => {
    server.requests.length = 0;
    const out = file();
    const run = await cli(['config', '-t', T, '-k', kubeconfig, '-n', 'shop,ops', '-o', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), {
      'docker.io/bitnami/kubectl:1.31': `${T}/kubectl:1.31`,
      'docker.io/library/busybox:1.36': `${T}/busybox:1.36`,
      'docker.io/library/nginx:1.27': `${T}/nginx:1.27`,
      'docker.io/library/postgres:16.4': `${T}/postgres:16.4`,
      [`ghcr.io/acme/migrate@${MIGRATE_DIGEST}`]: `${T}/migrate`,
      'quay.io/prometheus/node-exporter:v1.8.2': `${T}/node-exporter:v1.8.2`,
    });
    const expected = ['shop', 'ops'].flatMap((ns) =>
      WORKLOAD_PATHS.map((p) => p.replace(/\/([a-z]+)$/, `/namespaces/${ns}/$1`)),
    );
    assert.deepEqual([...new Set(server.requests.map((r) => r.path))].sort(), expected.sort());
  });

  test('the kubeconfig defaults to $KUBECONFIG (merging its files), then ~/.kube/config', async () => {
    // $KUBECONFIG=a:b, kubectl's merge: contexts and current-context in the first file, the cluster (with a
    // certificate-authority path relative to its own file) and the user in the second.
    const split = join(dir, 'split');
    await mkdir(join(split, 'certs'), { recursive: true });
    await writeFile(join(split, 'certs', 'ca.crt'), await readFile(certs.caPath));
    await writeFile(
      join(split, 'contexts.yaml'),
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: split',
        'contexts:',
        '- name: split',
        '  context: {cluster: c1, user: u1}',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(split, 'clusters.yaml'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c1',
        '  cluster:',
        `    server: ${server.url}`,
        '    certificate-authority: certs/ca.crt',
        'users:',
        '- name: u1',
        '  user:',
        `    token: ${token}`,
        '',
      ].join('\n'),
    );
    const viaEnv = await cli(['config', '-t', T, '-n', 'default', '-o', '-'], {
      KUBECONFIG: `${join(split, 'contexts.yaml')}:${join(split, 'clusters.yaml')}`,
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.deepEqual(JSON.parse(viaEnv.stdout), { 'docker.io/library/busybox:latest': `${T}/busybox:latest` });

    const home = join(dir, 'home');
    await mkdir(join(home, '.kube'), { recursive: true });
    await writeFile(join(home, '.kube', 'config'), kubeconfigText({ server: server.url, token, ca: certs.caPath }));
    const viaHome = await cli(['config', '-t', T, '-n', 'kube-system', '-o', '-'], { HOME: home });
    assert.equal(viaHome.code, 0, viaHome.stderr);
    assert.deepEqual(JSON.parse(viaHome.stdout), {
      'registry.k8s.io/coredns/coredns:v1.11.3': `${T}/coredns:v1.11.3`,
      'registry.k8s.io/kube-proxy:v1.31.1': `${T}/kube-proxy:v1.31.1`,
    });
  });

  test('--context picks a context other than the current one', async () => {
    const two = join(dir, 'two-contexts');
    const text = kubeconfigText({ server: server.url, token, ca: certs.caPath }).replace(
      'users:',
      ['- name: broken', '  context:', '    cluster: prod-cluster', '    user: nobody', 'users:'].join('\n'),
    );
    await writeFile(two, text.replace('current-context: prod', 'current-context: broken'));
    const current = await cli(['config', '-t', T, '-k', two, '-o', '-']);
    assert.equal(current.code, 2);
    assert.match(
      current.stderr,
      /context "broken", cluster "prod-cluster": the context names user "nobody", which is not defined; users defined: "ci-reader"/,
    );
    const chosen = await cli(['config', '-t', T, '-k', two, '--context', 'prod', '-n', 'default', '-o', '-']);
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.deepEqual(JSON.parse(chosen.stdout), { 'docker.io/library/busybox:latest': `${T}/busybox:latest` });
  });

  test('a resource the server does not serve is skipped with a warning; 403 is an error naming what was denied', async () => {
    const partial = await startKubeApiServer({ token, tls: certs, notServed: ['cronjobs'] });
    const denied = await startKubeApiServer({ token, tls: certs, forbidden: ['deployments'] });
    try {
      const k1 = join(dir, 'partial');
      await writeFile(k1, kubeconfigText({ server: partial.url, token, ca: certs.caPath }));
      const run = await cli(['config', '-t', T, '-k', k1, '-o', '-']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        /warning: the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ \(context "prod", cluster "prod-cluster"\) does not serve batch\/v1 cronjobs \(HTTP 404\): skipped/,
      );
      assert.equal(JSON.parse(run.stdout)['docker.io/bitnami/kubectl:1.31'], undefined);
      assert.equal(Object.keys(JSON.parse(run.stdout)).length, Object.keys(ALL_IMAGES).length - 1);

      const k2 = join(dir, 'denied');
      await writeFile(k2, kubeconfigText({ server: denied.url, token, ca: certs.caPath }));
      const out = file();
      const forbidden = await cli(['config', '-t', T, '-k', k2, '-n', 'shop', '-o', out]);
      assert.equal(forbidden.code, 1);
      assert.match(
        forbidden.stderr,
        /error: the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ \(context "prod", cluster "prod-cluster"\) denied listing apps\/v1 deployments in namespace "shop" \(HTTP 403: deployments\.apps is forbidden: User "system:serviceaccount:ci:reader" cannot list resource "deployments"/,
      );
      await assert.rejects(readFile(out), { code: 'ENOENT' }, 'nothing written');
    } finally {
      await partial.stop();
      await denied.stop();
    }
  });

  test('a wrong token: exit 1 naming the server, context, cluster and user, never a token', async () => {
    const wrong = `wrong-token-${randomBytes(16).toString('hex')}`;
    const k = join(dir, 'wrong-token');
    await writeFile(k, kubeconfigText({ server: server.url, token: wrong, ca: certs.caPath }));
    server.requests.length = 0;
    const run = await cli(['config', '-t', T, '-k', k, '-o', file()]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `error: the Kubernetes API server ${server.url} \\(context "prod", cluster "prod-cluster"\\) rejected the credentials of user "ci-reader" \\(HTTP 401 Unauthorized`,
      ),
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(wrong), 'the wrong token is not printed');
    assert.ok(server.requests.length > 0 && server.requests.every((r) => !r.authorized));
  });

  test('an unreachable API server: exit 1 naming its URL', async () => {
    const port = await closedPort();
    const k = join(dir, 'unreachable');
    await writeFile(k, kubeconfigText({ server: `https://127.0.0.1:${port}`, token, ca: certs.caPath }));
    const run = await cli(['config', '-t', T, '-k', k, '-o', file()]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `^swr-sync: error: cannot reach the Kubernetes API server https://127\\.0\\.0\\.1:${port} \\(context "prod", cluster "prod-cluster"\\): connection refused \\(ECONNREFUSED\\)\\n$`,
      ),
    );
  });

  test('an API server that never answers: exit 1 after --request-timeout', async () => {
    const silent = await startKubeApiServer({ token, tls: certs, silent: true });
    try {
      const k = join(dir, 'silent');
      await writeFile(k, kubeconfigText({ server: silent.url, token, ca: certs.caPath }));
      const started = Date.now();
      const run = await cli(['config', '-t', T, '-k', k, '--request-timeout', '1s', '-o', file()]);
      assert.equal(run.code, 1);
      assert.match(
        run.stderr,
        new RegExp(
          `${silent.url} \\(context "prod", cluster "prod-cluster"\\) did not answer within 1s \\(--request-timeout\\)`,
        ),
      );
      assert.ok(Date.now() - started < 15_000);
    } finally {
      await silent.stop();
    }
  });

  test('a server certificate the kubeconfig does not trust: exit 1 saying so', async () => {
    const k = join(dir, 'no-ca');
    await writeFile(k, kubeconfigText({ server: server.url, token }));
    const run = await cli(['config', '-t', T, '-k', k, '-o', file()]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /cannot reach the Kubernetes API server .*: the server's certificate .*not trusted: set certificate-authority\(-data\) on the cluster/,
    );
  });

  describe('bad kubeconfigs: exit 2 naming the file, context and cluster, nothing sent', () => {
    const cases: Array<{
      name: string;
      text?: () => string;
      args?: () => string[];
      env?: () => Record<string, string>;
      expect: () => RegExp;
    }> = [
      {
        name: '-k names a missing file',
        args: () => ['-k', join(dir, 'absent')],
        expect: () => new RegExp(`${join(dir, 'absent')}: kubeconfig not found \\(from -k\\)`),
      },
      {
        name: 'no ~/.kube/config and no $KUBECONFIG',
        args: () => [],
        env: () => ({ HOME: join(dir, 'empty-home') }),
        expect: () =>
          new RegExp(
            `${join(dir, 'empty-home', '.kube', 'config')}: kubeconfig not found \\(from the default ~/\\.kube/config\\)`,
          ),
      },
      {
        name: 'YAML syntax error on the line holding the token',
        text: () => kubeconfigText({ server: server.url, token: `[${token}`, ca: certs.caPath }),
        expect: () => /: not a valid kubeconfig: YAML syntax error at line \d+, column \d+/,
      },
      {
        name: 'not a mapping',
        text: () => '- just\n- a list\n',
        expect: () => /not a valid kubeconfig: expected a mapping/,
      },
      {
        name: 'no current-context',
        text: () => kubeconfigText({ server: server.url, token, currentContext: null }),
        expect: () => /no current-context is set and no --context was given; contexts defined: "prod"/,
      },
      {
        name: 'unknown current-context',
        text: () => kubeconfigText({ server: server.url, token, currentContext: 'staging' }),
        expect: () => /context "staging" is not defined; contexts defined: "prod"/,
      },
      {
        name: 'unknown --context',
        args: () => ['--context', 'dev'],
        text: () => kubeconfigText({ server: server.url, token }),
        expect: () => /context "dev" is not defined; contexts defined: "prod"/,
      },
      {
        name: 'the context names a missing cluster',
        text: () =>
          kubeconfigText({ server: server.url, token }).replace('    cluster: prod-cluster', '    cluster: gone'),
        expect: () => /context "prod" names cluster "gone", which is not defined; clusters defined: "prod-cluster"/,
      },
      {
        name: 'a cluster without a server',
        text: () => kubeconfigText({ server: '""', token }),
        expect: () => /context "prod", cluster "prod-cluster": the cluster has no server URL/,
      },
      {
        name: 'a server that is not a URL',
        text: () => kubeconfigText({ server: 'ftp://127.0.0.1:1', token }),
        expect: () =>
          /context "prod", cluster "prod-cluster": server "ftp:\/\/127\.0\.0\.1:1" is not an http\(s\):\/\/host\[:port\] URL/,
      },
      {
        name: 'a server URL with a password in it (not printed)',
        text: () => kubeconfigText({ server: `https://admin:${token}@127.0.0.1:1`, token: 'x' }),
        expect: () =>
          /context "prod", cluster "prod-cluster": server "https:\/\/127\.0\.0\.1:1" is not an http\(s\):\/\/host\[:port\] URL without user or password/,
      },
      {
        name: 'plain HTTP without insecure-skip-tls-verify',
        text: () => kubeconfigText({ server: 'http://127.0.0.1:1', token }),
        expect: () =>
          /context "prod", cluster "prod-cluster": server http:\/\/127\.0\.0\.1:1 is plain HTTP; the Kubernetes client accepts that only with insecure-skip-tls-verify: true/,
      },
      {
        name: 'a certificate-authority file that does not exist',
        text: () => kubeconfigText({ server: server.url, token, ca: join(dir, 'missing-ca.crt') }),
        expect: () =>
          new RegExp(
            `context "prod", cluster "prod-cluster": certificate-authority file ${join(dir, 'missing-ca.crt')} cannot be read`,
          ),
      },
      {
        name: '-k together with --from-manifests',
        args: () => ['--from-manifests', dir],
        text: () => kubeconfigText({ server: server.url, token }),
        expect: () => /-k reads a cluster and --from-manifests reads files: give one of them/,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const k = join(dir, `bad-${randomBytes(4).toString('hex')}`);
        if (c.text) await writeFile(k, c.text());
        server.requests.length = 0;
        const run = await cli(
          ['config', '-t', T, ...(c.text ? ['-k', k] : []), ...(c.args?.() ?? []), '-o', file()],
          c.env?.() ?? {},
        );
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, c.expect());
        if (c.text && !c.args)
          assert.match(run.stderr, new RegExp(`error: ${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'names the file');
        assert.doesNotMatch(run.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
        assert.equal(server.requests.length, 0, 'nothing was sent');
      });
    }
  });

  test('the token never appears in any output or error of this suite', () => {
    assert.ok(outputs.length >= 20);
    for (const run of outputs) {
      assert.ok(
        !run.stdout.includes(token) && !run.stderr.includes(token),
        `token leaked:\n${run.stdout}\n${run.stderr}`,
      );
      assert.ok(!run.stderr.includes(token.slice(-12)));
    }
  });

  test('only `config` on a cluster loads @kubernetes/client-node; other commands start without it', async () => {
    const hooks = join(dir, 'hooks.mjs');
    const record = join(dir, 'loaded.txt');
    await writeFile(
      hooks,
      [
        "import { appendFileSync } from 'node:fs';",
        'export async function resolve(specifier, context, next) {',
        `  if (specifier.includes('@kubernetes/client-node')) appendFileSync(${JSON.stringify(record)}, specifier + '\\n');`,
        '  return next(specifier, context);',
        '}',
      ].join('\n'),
    );
    const register = join(dir, 'register.mjs');
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`,
    );
    const env = { NODE_OPTIONS: `--import=${new URL(`file://${register}`).href}` };
    const loaded = async () => readFile(record, 'utf8').catch(() => '');

    const manifest = join(dir, 'pod.yaml');
    await writeFile(manifest, 'kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n');
    for (const args of [
      ['--version'],
      ['login-key', '--help'],
      ['config', '-t', T, '--from-manifests', manifest, '-o', '-'],
    ]) {
      const run = await runCli(args, { env });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await loaded(), '', `${args.join(' ')} did not load the Kubernetes client`);
    }
    const run = await runCli(['config', '-t', T, '-k', kubeconfig, '-n', 'default', '-o', '-'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(await loaded(), /@kubernetes\/client-node/, 'the cluster path loads it (the hook works)');
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
