import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestCertificates, type TestCertificates } from '../harness/tls.js';
import { startKubeApiServer, type KubeApiServer } from '../harness/kube-api-server.js';
import { runCli } from './support.js';

/**
 * `swr-sync config` with credentials the Kubernetes client library sends on its own (a token file, an exec
 * plugin), against an API server that echoes the Authorization header in its errors (docs/security.md): no token
 * is printed. And what a kubeconfig from someone else means: its exec plugin runs, as with kubectl.
 */

function kubeconfig(server: string, ca: string, user: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${ca}`,
    'contexts:',
    '- name: ctx',
    '  context:',
    '    cluster: c',
    '    user: u',
    'users:',
    '- name: u',
    '  user:',
    ...user.map((l) => `    ${l}`),
    'current-context: ctx',
    '',
  ].join('\n');
}

describe('swr-sync config: tokens a hostile API server echoes are never printed', () => {
  let certs: TestCertificates;
  let dir: string;
  const token = `canary-token-${randomBytes(16).toString('hex')}`;
  let honest: KubeApiServer;
  let echoing: KubeApiServer;

  before(async () => {
    certs = await makeTestCertificates();
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-hostile-kube-'));
    [honest, echoing] = await Promise.all([
      startKubeApiServer({ token, tls: certs }),
      startKubeApiServer({ token, tls: certs, echoAuthorization: true }),
    ]);
  });
  after(async () => {
    await Promise.all([honest?.stop(), echoing?.stop()]);
  });

  test('a token-file ending in a line break is read as kubectl reads it (trimmed), and never printed', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${token}\n`);
    const file = join(dir, 'kubeconfig-token-file');
    await writeFile(file, kubeconfig(honest.url, certs.caPath, [`token-file: ${tokenFile}`]));
    const run = await runCli(['config', '-t', 'swr.example.com/mirror', '-k', file, '-o', join(dir, 'images.json')]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(`${run.stdout}${run.stderr}`.includes(token), false);
    assert.ok(
      honest.requests.every((r) => r.authorized),
      'the trimmed token was accepted',
    );

    await writeFile(join(dir, 'kubeconfig-echo'), kubeconfig(echoing.url, certs.caPath, [`token-file: ${tokenFile}`]));
    const echoed = await runCli(['config', '-t', 'swr.example.com/mirror', '-k', join(dir, 'kubeconfig-echo')]);
    assert.equal(echoed.code, 1, echoed.stderr);
    assert.match(echoed.stderr, /HTTP 403/);
    assert.equal(`${echoed.stdout}${echoed.stderr}`.includes(token), false, echoed.stderr);
  });

  test('an exec plugin runs (as with kubectl), and the token it returns is redacted when the server echoes it', async () => {
    const ran = join(dir, 'exec-plugin-ran');
    const plugin = join(dir, 'credential-plugin');
    await writeFile(
      plugin,
      `#!/bin/sh\ntouch ${ran}\nprintf '%s' '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`,
    );
    await chmod(plugin, 0o755);
    const file = join(dir, 'kubeconfig-exec');
    await writeFile(
      file,
      kubeconfig(echoing.url, certs.caPath, [
        'exec:',
        '  apiVersion: client.authentication.k8s.io/v1beta1',
        `  command: ${plugin}`,
        '  interactiveMode: Never',
      ]),
    );
    const run = await runCli(['config', '-t', 'swr.example.com/mirror', '-k', file]);
    assert.equal(run.code, 1, run.stderr);
    await access(ran);
    assert.match(run.stderr, /HTTP 403/);
    assert.equal(`${run.stdout}${run.stderr}`.includes(token), false, run.stderr);
  });
});
