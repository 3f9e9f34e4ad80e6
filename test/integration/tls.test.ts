import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImageResult } from '../../src/results/image-result.js';
import { ImageBuilder, makeTestCertificates, pushImage, startRegistry, type BuiltManifest, type RunningRegistry, type TestCertificates } from '../harness/index.js';
import { parseJsonOutput, runCli, writeAuthJson } from './support.js';

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
  async function auth(insecureDestination: boolean) {
    const a = await writeAuthJson([src]);
    const { readFile, writeFile } = await import('node:fs/promises');
    const json = JSON.parse(await readFile(a.file, 'utf8')) as Record<string, unknown>;
    json[dst.host] = { username: dst.username, password: '${DST_PASSWORD}', insecure: insecureDestination };
    await writeFile(a.file, JSON.stringify(json));
    return { file: a.file, env: { ...a.env, DST_PASSWORD: dst.password! } };
  }

  test('NODE_EXTRA_CA_CERTS makes the private CA trusted', async () => {
    const a = await auth(false);
    const run = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/app:v1`, '--auth', a.file, '--json'], { env: { ...a.env, NODE_EXTRA_CA_CERTS: certs.caPath } });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(parseJsonOutput<ImageResult>(run).digest, image.digest);
    const again = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/app:v1`, '--auth', a.file, '--json'], { env: { ...a.env, NODE_EXTRA_CA_CERTS: certs.caPath } });
    assert.equal(parseJsonOutput<ImageResult>(again).status, 'unchanged', 'the tag resolves to the source digest over verified TLS');
  });

  test('without the CA the certificate is refused, naming the registry and the cause', async () => {
    const a = await auth(false);
    const run = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/other:v1`, '--auth', a.file], { env: a.env });
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, new RegExp(`registry ${dst.host.replace(/\./g, '\\.')} unreachable: .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify)`, 'i'));
  });

  test('insecure: true accepts the unverified certificate and stays on HTTPS', async () => {
    const a = await auth(true);
    const run = await runCli(['copy', `${src.host}/tls/app:v1`, `${dst.host}/tls/insecure:v1`, '--auth', a.file, '--json'], { env: a.env });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(parseJsonOutput<ImageResult>(run).digest, image.digest);
  });
});
