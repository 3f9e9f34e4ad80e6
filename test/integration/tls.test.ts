import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/engine/image-result.js';
import {
  ImageBuilder,
  makeTestCertificates,
  pushImage,
  startRegistry,
  type BuiltManifest,
  type RunningRegistry,
  type TestCertificates,
} from '../harness/index.js';
import { RegistryClient } from '../../src/client/registry-client.js';
import { credentialsFor, parseJsonOutput, runCli, writeAuthJson } from './support.js';

/** auth.json for `src` (insecure, plain HTTP) plus `entries`; `env` holds the variables they name. */
async function authWith(src: RunningRegistry, entries: Record<string, unknown>, env: Record<string, string>) {
  const a = await writeAuthJson([src]);
  const json = { ...(JSON.parse(await readFile(a.file, 'utf8')) as Record<string, unknown>), ...entries };
  await writeFile(a.file, JSON.stringify(json));
  return { file: a.file, env: { ...a.env, ...env } };
}

/**
 * A destination serving HTTPS with a certificate from a private CA: trusted through NODE_EXTRA_CA_CERTS, refused
 * (with the registry named) without it, and accepted unverified only when marked insecure.
 */
describe('TLS with a private CA', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let certs: TestCertificates;
  let image: BuiltManifest;

  before(async () => {
    certs = await makeTestCertificates();
    [src, dst, builder] = await Promise.all([
      startRegistry(),
      startRegistry({ auth: 'basic', tls: { certificate: certs.certificate, key: certs.key } }),
      ImageBuilder.temporary(),
    ]);
    image = await builder.image({ format: 'docker', layers: 2, layerSize: 64 * 1024 });
    await pushImage(src, 'tls/app', 'v1', image, builder);
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  /** auth.json with the source insecure (plain HTTP) and the TLS destination verified. */
  const auth = (insecureDestination: boolean) =>
    authWith(
      src,
      {
        [dst.host]: { username: dst.username, password: '${DST_PASSWORD}', insecure: insecureDestination },
      },
      { DST_PASSWORD: dst.password! },
    );

  test('NODE_EXTRA_CA_CERTS makes the private CA trusted', async () => {
    const a = await auth(false);
    const run = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/app:v1`, '--auth', a.file, '--json'], {
      env: { ...a.env, NODE_EXTRA_CA_CERTS: certs.caPath },
    });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(parseJsonOutput<ImageResult>(run).digest, image.digest);
    const again = await runCli(
      ['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/app:v1`, '--auth', a.file, '--json'],
      { env: { ...a.env, NODE_EXTRA_CA_CERTS: certs.caPath } },
    );
    assert.equal(
      parseJsonOutput<ImageResult>(again).status,
      'unchanged',
      'the tag resolves to the source digest over verified TLS',
    );
  });

  test('without the CA the certificate is refused, naming the registry and the cause', async () => {
    const a = await auth(false);
    const run = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/other:v1`, '--auth', a.file], {
      env: a.env,
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stdout + run.stderr,
      new RegExp(
        `registry ${dst.host.replace(/\./g, '\\.')} unreachable: .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify)`,
        'i',
      ),
    );
  });

  test('the challenge is learned once: 20 requests started together cost one 401 (HTTPS, no ping to learn it from)', async () => {
    const statuses: Array<number | undefined> = [];
    const client = new RegistryClient({ credentials: credentialsFor(dst), onRequest: (e) => statuses.push(e.status) });
    try {
      const heads = await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.headManifest(dst.host, `gate/app${i}`, 'v1', 'push')),
      );
      assert.deepEqual(
        heads.filter((h) => h !== undefined),
        [],
        'nothing there yet',
      );
      // The plain-HTTP probe of the TLS port gets no HTTP answer (status undefined); then one 401, and 404s.
      assert.equal(statuses.filter((s) => s === 401).length, 1, statuses.join(' '));
      assert.equal(statuses.filter((s) => s === 404).length, 20, statuses.join(' '));
    } finally {
      await client.close();
    }
  });

  test('insecure: true accepts the unverified certificate and stays on HTTPS', async () => {
    const a = await auth(true);
    const run = await runCli(
      ['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/insecure:v1`, '--auth', a.file, '--json'],
      { env: a.env },
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(parseJsonOutput<ImageResult>(run).digest, image.digest);
  });
});

/**
 * Which credentials go to a Bearer token realm (issue 8: credentials go to their own registry only). The token
 * server of a registry serving verified HTTPS runs on plain HTTP at another origin, as a challenge could name.
 */
describe('credentials sent to a token realm', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let builder: ImageBuilder;
  let certs: TestCertificates;
  const REALM_PASSWORD = 'canary-realm-host-password-6d1f';

  before(async () => {
    certs = await makeTestCertificates();
    [src, dst, builder] = await Promise.all([
      startRegistry(),
      startRegistry({ auth: 'token', tls: { certificate: certs.certificate, key: certs.key } }),
      ImageBuilder.temporary(),
    ]);
    await pushImage(
      src,
      'realm/app',
      'v1',
      await builder.image({ format: 'oci', layers: 1, layerSize: 16 * 1024 }),
      builder,
    );
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), builder?.dispose()]);
  });

  /** auth.json: the source insecure, the destination's own credentials, and other credentials for the realm's host. */
  const auth = (insecureDestination: boolean) =>
    authWith(
      src,
      {
        [dst.host]: { username: dst.username, password: '${DST_PASSWORD}', insecure: insecureDestination },
        [new URL(dst.tokenServer!.url).host]: {
          username: 'realm-host-user',
          password: '${REALM_PASSWORD}',
          insecure: true,
        },
      },
      { DST_PASSWORD: dst.password!, REALM_PASSWORD, NODE_EXTRA_CA_CERTS: certs.caPath },
    );

  test("a verified-TLS registry's credentials are withheld from a plain-HTTP realm: refused, saying why, nothing sent in clear", async () => {
    const before = dst.tokenServer!.requests.length;
    const a = await auth(false);
    const run = await runCli(['copy', `${src.host}/realm/app:v1`, `${dst.host}/realm/app:v1`, '--auth', a.file], {
      env: a.env,
    });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(
      run.stdout + run.stderr,
      /credentials for 127\.0\.0\.1:\d+ were withheld: the realm is plain HTTP and the registry is not marked insecure/,
    );
    const asked = dst.tokenServer!.requests.slice(before);
    assert.ok(asked.length > 0, 'the token server was asked');
    assert.deepEqual(
      asked.filter((r) => r.authorization !== undefined),
      [],
      'no credentials on plain HTTP',
    );
    for (const text of [run.stdout, run.stderr])
      assert.ok(!text.includes(dst.password!) && !text.includes(REALM_PASSWORD), 'no secret shown');
  });

  test("marked insecure, the registry's own credentials go to its realm, never those configured for the realm's host", async () => {
    const before = dst.tokenServer!.requests.length;
    const a = await auth(true);
    const run = await runCli(
      ['copy', `${src.host}/realm/app:v1`, `${dst.host}/realm/insecure:v1`, '--auth', a.file, '--json'],
      { env: a.env },
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const asked = dst.tokenServer!.requests.slice(before);
    assert.ok(asked.length > 0);
    assert.deepEqual(
      [...new Set(asked.map((r) => `${r.status} ${r.user}`))],
      [`200 ${dst.username}`],
      "every token request authenticated as the registry's user",
    );
  });
});
