import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { MediaType, isIndex, type BuiltIndex, type BuiltManifest, type ImageBuilder } from './images.js';
import { RegistrySession, type RegistryEndpoint, type Reply } from './registry-session.js';

/**
 * Seeds registries with built images and reads back what the project's engine wrote, over the
 * distribution-spec API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md), with the
 * harness's own client.
 */

export type { RegistryEndpoint } from './registry-session.js';

export interface FetchedManifest {
  status: number;
  /** SHA-256 over the bytes received (not the registry's Docker-Content-Digest header). */
  digest?: string;
  mediaType?: string;
  bytes?: Buffer;
}

const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');

const UPLOAD_CONCURRENCY = 4;

/**
 * distribution 2.8 can answer a concurrent HEAD with 500 while the same blob is being uploaded twice into one
 * repository; concurrent pushes from this process therefore share one upload per (registry, repository, digest).
 */
const uploadsInFlight = new Map<string, Promise<void>>();

/**
 * Uploads `target` into `repository` and tags it `ref`: blobs (skipped when HEAD finds them), then child
 * manifests by digest, then the top manifest by `ref`. Given several manifests, each is pushed by digest and
 * the last one is tagged.
 */
export async function pushImage(
  registry: RegistryEndpoint,
  repository: string,
  ref: string,
  target: BuiltManifest | BuiltIndex | BuiltManifest[],
  builder: ImageBuilder,
): Promise<void> {
  const session = new RegistrySession(registry);
  const tops = Array.isArray(target) ? target : [target];
  if (tops.length === 0) throw new Error('pushImage: nothing to push');
  const manifests = tops.flatMap((t) => (isIndex(t) ? t.children : [t]));
  const blobs = new Map<string, number>();
  for (const m of manifests) for (const d of [m.config, ...m.layers]) blobs.set(d.digest, d.size);

  await inParallel([...blobs.keys()], UPLOAD_CONCURRENCY, (digest) => {
    const key = `${registry.url} ${repository} ${digest}`;
    let upload = uploadsInFlight.get(key);
    if (upload === undefined) {
      upload = uploadBlob(session, repository, digest, builder).finally(() => uploadsInFlight.delete(key));
      uploadsInFlight.set(key, upload);
    }
    return upload;
  });
  for (const [i, top] of tops.entries()) {
    if (isIndex(top)) for (const child of top.children) await putManifest(session, repository, child.digest, child);
    await putManifest(session, repository, i === tops.length - 1 ? ref : top.digest, top);
  }
}

export async function fetchManifest(
  registry: RegistryEndpoint,
  repository: string,
  ref: string,
): Promise<FetchedManifest> {
  const reply = await new RegistrySession(registry).send({
    method: 'GET',
    target: `/v2/${repository}/manifests/${ref}`,
    repository,
    headers: { accept: MANIFEST_ACCEPT },
  });
  if (reply.status !== 200) return { status: reply.status };
  const mediaType = reply.headers['content-type']?.split(';')[0]?.trim();
  return {
    status: reply.status,
    digest: sha256(reply.body),
    ...(mediaType !== undefined && { mediaType }),
    bytes: reply.body,
  };
}

export async function headBlob(registry: RegistryEndpoint, repository: string, digest: string): Promise<number> {
  const reply = await new RegistrySession(registry).send({
    method: 'HEAD',
    target: `/v2/${repository}/blobs/${digest}`,
    repository,
  });
  return reply.status;
}

/** All tags (following `Link: <...>; rel="next"` pages); [] when the repository is unknown. */
export async function listTags(registry: RegistryEndpoint, repository: string): Promise<string[]> {
  const session = new RegistrySession(registry);
  const tags: string[] = [];
  let next: string | undefined = `/v2/${repository}/tags/list`;
  while (next !== undefined) {
    const reply: Reply = await session.send({ method: 'GET', target: next, repository });
    if (reply.status === 404) return tags;
    if (reply.status !== 200)
      throw new Error(`listTags ${repository}: HTTP ${reply.status} ${reply.body.toString('utf8')}`);
    tags.push(...((JSON.parse(reply.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []));
    next = /<([^>]+)>;\s*rel="?next"?/.exec(String(reply.headers.link ?? ''))?.[1];
  }
  return tags;
}

/**
 * Walks `ref` (an index through every child, nested indexes included) down to configs and layers, and lists
 * the digests that do not resolve: manifests that are absent or whose bytes hash to something else, and blobs
 * HEAD does not find. Layers with `urls` (non-distributable) are not expected in the registry. When `ref`
 * itself is absent, `digest` is '' and `missing` holds `ref`.
 */
export async function verifyImageComplete(
  registry: RegistryEndpoint,
  repository: string,
  ref: string,
): Promise<{ digest: string; missing: string[] }> {
  const session = new RegistrySession(registry);
  const missing: string[] = [];
  const seen = new Set<string>();

  const getManifest = async (reference: string): Promise<{ digest: string; json: ManifestJson } | undefined> => {
    const reply = await session.send({
      method: 'GET',
      target: `/v2/${repository}/manifests/${reference}`,
      repository,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (reply.status !== 200) return undefined;
    return { digest: sha256(reply.body), json: JSON.parse(reply.body.toString('utf8')) as ManifestJson };
  };

  const walk = async (json: ManifestJson): Promise<void> => {
    if (Array.isArray(json.manifests)) {
      for (const child of json.manifests) {
        if (seen.has(child.digest)) continue;
        seen.add(child.digest);
        const fetched = await getManifest(child.digest);
        if (fetched === undefined || fetched.digest !== child.digest) missing.push(child.digest);
        else await walk(fetched.json);
      }
      return;
    }
    const blobs = [...(json.config !== undefined ? [json.config] : []), ...(json.layers ?? [])];
    for (const blob of blobs) {
      if ((blob.urls?.length ?? 0) > 0 || seen.has(blob.digest)) continue;
      seen.add(blob.digest);
      const reply = await session.send({
        method: 'HEAD',
        target: `/v2/${repository}/blobs/${blob.digest}`,
        repository,
      });
      // 3xx: a registry backed by object storage redirects blob reads.
      if (reply.status < 200 || reply.status >= 400) missing.push(blob.digest);
    }
  };

  const top = await getManifest(ref);
  if (top === undefined) return { digest: '', missing: [ref] };
  if (ref.startsWith('sha256:') && top.digest !== ref) return { digest: top.digest, missing: [ref] };
  await walk(top.json);
  return { digest: top.digest, missing };
}

interface ManifestJson {
  manifests?: Array<{ digest: string }>;
  config?: { digest: string; urls?: string[] };
  layers?: Array<{ digest: string; urls?: string[] }>;
}

async function uploadBlob(
  session: RegistrySession,
  repository: string,
  digest: string,
  builder: ImageBuilder,
): Promise<void> {
  const head = await session.send({
    method: 'HEAD',
    target: `/v2/${repository}/blobs/${digest}`,
    repository,
    actions: 'pull,push',
  });
  if (head.status === 200) return;
  const start = await session.send({
    method: 'POST',
    target: `/v2/${repository}/blobs/uploads/`,
    repository,
    actions: 'pull,push',
  });
  if (start.status !== 202 || start.headers.location === undefined)
    throw failure(`start upload of ${digest} to ${repository}`, start);
  // The Location already carries `?_state=...`; the monolithic PUT appends the digest (distribution-spec
  // "Pushing a blob monolithically").
  const location = start.headers.location;
  const path = builder.blobPath(digest);
  const { size } = await stat(path);
  const put = await session.send({
    method: 'PUT',
    target: `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`,
    repository,
    actions: 'pull,push',
    headers: { 'content-type': 'application/octet-stream' },
    body: { length: size, open: () => createReadStream(path) },
  });
  if (put.status !== 201) throw failure(`upload ${digest} to ${repository}`, put);
}

async function putManifest(
  session: RegistrySession,
  repository: string,
  reference: string,
  manifest: { mediaType: string; digest: string; bytes: Buffer },
): Promise<void> {
  const reply = await session.send({
    method: 'PUT',
    target: `/v2/${repository}/manifests/${reference}`,
    repository,
    actions: 'pull,push',
    headers: { 'content-type': manifest.mediaType },
    body: manifest.bytes,
  });
  if (reply.status !== 201) throw failure(`put manifest ${manifest.digest} as ${repository}:${reference}`, reply);
  const stored = reply.headers['docker-content-digest'];
  if (stored !== undefined && stored !== manifest.digest) {
    throw new Error(
      `put manifest ${repository}:${reference}: registry stored ${String(stored)}, expected ${manifest.digest}`,
    );
  }
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function failure(what: string, reply: Reply): Error {
  return new Error(`${what}: HTTP ${reply.status} ${reply.body.toString('utf8').slice(0, 500)}`);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
