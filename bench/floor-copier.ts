/**
 * The floor for `npm run bench -- --floor`: the least a Node copier can do for a list of single-manifest images
 * between two plain-HTTP registries of the bench. It knows the tags (no tag lists), asks nothing of the
 * destination (no manifest or blob HEADs), checks no digest, has no retries, and keeps connections alive with
 * undici pools: GET manifest; per blob a mount when another repository already received it, else GET streamed
 * into POST + PUT; PUT manifest. It is not a tool: it exists so the bench can show what is left for swr-sync to gain
 * (`loopback-registries.md` reports such a copier at 0.30× skopeo on its machine).
 *
 *   node lib/bench/floor-copier.js SRC_HOST DST_HOST NAMESPACE IMAGES.json   (IMAGES: [{ srcRepo, name, tag }])
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

interface Item {
  srcRepo: string;
  name: string;
  tag: string;
}
interface Blob {
  digest: string;
  size: number;
}

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const WORKERS = 7;

async function main(): Promise<void> {
  const [srcHost, dstHost, namespace, listFile] = process.argv.slice(2);
  if (!srcHost || !dstHost || !namespace || !listFile)
    throw new Error('usage: floor-copier SRC_HOST DST_HOST NAMESPACE IMAGES.json');
  const items = JSON.parse(readFileSync(listFile, 'utf8')) as Item[];
  const source = new Pool(`http://${srcHost}`, { connections: 16 });
  const destination = new Pool(`http://${dstHost}`, { connections: 16 });
  /** Digest → the repository that received it first (resolved once its upload is complete). */
  const placed = new Map<string, Promise<string>>();

  const expect = async (
    what: string,
    reply: { statusCode: number; body: { dump(): Promise<void> } },
    status: number,
  ): Promise<void> => {
    await reply.body.dump();
    if (reply.statusCode !== status) throw new Error(`${what}: HTTP ${reply.statusCode}, expected ${status}`);
  };

  const blob = async (srcRepo: string, dstRepo: string, b: Blob): Promise<void> => {
    const first = placed.get(b.digest);
    if (first) {
      const from = await first;
      if (from === dstRepo) return;
      await expect(
        `mount ${b.digest}`,
        await destination.request({
          method: 'POST',
          path: `/v2/${dstRepo}/blobs/uploads/?mount=${b.digest}&from=${from}`,
        }),
        201,
      );
      return;
    }
    let done!: (repo: string) => void;
    placed.set(b.digest, new Promise((resolve) => (done = resolve)));
    const get = await source.request({ method: 'GET', path: `/v2/${srcRepo}/blobs/${b.digest}` });
    const post = await destination.request({ method: 'POST', path: `/v2/${dstRepo}/blobs/uploads/` });
    await expect(`upload ${b.digest}`, post, 202);
    const location = new URL(String(post.headers.location), `http://${dstHost}`);
    const put = await destination.request({
      method: 'PUT',
      path: `${location.pathname}${location.search}${location.search ? '&' : '?'}digest=${b.digest}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
      body: get.body,
    });
    await expect(`PUT ${b.digest}`, put, 201);
    done(dstRepo);
  };

  const image = async (item: Item): Promise<void> => {
    const dstRepo = `${namespace}/${item.name}`;
    const reply = await source.request({
      method: 'GET',
      path: `/v2/${item.srcRepo}/manifests/${item.tag}`,
      headers: { accept: ACCEPT },
    });
    const bytes = Buffer.from(await reply.body.arrayBuffer());
    const manifest = JSON.parse(bytes.toString('utf8')) as { config: Blob; layers: Blob[] };
    await Promise.all([manifest.config, ...manifest.layers].map((b) => blob(item.srcRepo, dstRepo, b)));
    const put = await destination.request({
      method: 'PUT',
      path: `/v2/${dstRepo}/manifests/${item.tag}`,
      headers: { 'content-type': String(reply.headers['content-type']) },
      body: bytes,
    });
    await expect(`PUT manifest ${dstRepo}:${item.tag}`, put, 201);
  };

  let next = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < items.length) await image(items[next++]!);
    }),
  );
  await Promise.all([source.close(), destination.close()]);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
