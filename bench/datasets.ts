import { createHash } from 'node:crypto';
import {
  MediaType,
  RegistrySession,
  pushImage,
  type BuiltIndex,
  type BuiltManifest,
  type ImageBuilder,
  type RegistryEndpoint,
} from '../test/harness/index.js';

/** The bench's deterministic data sets, built once per source registry with the harness's daemon-less builder. */

export type SetId = 'a' | 'b' | 'c' | 'd';

export interface BenchImage {
  /** Source repository path, e.g. `bench-a/r07`. */
  srcRepo: string;
  /** Last path component: the destination repository is `<namespace>/<name>`. */
  name: string;
  tag: string;
  /** Digest of the top manifest (or index) as pushed. */
  digest: string;
}

export interface DataSet {
  id: SetId;
  title: string;
  /** `sync` for a set of repositories (swr-sync sync / skopeo sync), `copy` for one image. */
  kind: 'sync' | 'copy';
  images: BenchImage[];
  /** Distinct source blobs (configs and layers) and their bytes. */
  uniqueBlobs: number;
  uniqueBytes: number;
  /** Distinct (destination repository, blob digest) pairs a cold copy must write. */
  repoBlobPairs: number;
}

const MiB = 1024 * 1024;

function blobsOf(target: BuiltManifest | BuiltIndex): Array<{ digest: string; size: number }> {
  const manifests = 'children' in target ? target.children : [target];
  return manifests.flatMap((m) => [m.config, ...m.layers].map((d) => ({ digest: d.digest, size: d.size })));
}

function summarize(
  id: SetId,
  title: string,
  kind: DataSet['kind'],
  pushed: Array<{ image: BenchImage; target: BuiltManifest | BuiltIndex }>,
): DataSet {
  const unique = new Map<string, number>();
  const pairs = new Set<string>();
  for (const { image, target } of pushed) {
    for (const b of blobsOf(target)) {
      unique.set(b.digest, b.size);
      pairs.add(`${image.name} ${b.digest}`);
    }
  }
  return {
    id,
    title,
    kind,
    images: pushed.map((p) => p.image),
    uniqueBlobs: unique.size,
    uniqueBytes: [...unique.values()].reduce((a, b) => a + b, 0),
    repoBlobPairs: pairs.size,
  };
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * (a) 50 repositories × 2 tags × 3 layers of 1 MiB: one layer from a pool of 25 shared across repositories,
 * one shared by the repository's two tags, one unique to the image. Half the layer references are shared.
 */
export async function buildSetA(builder: ImageBuilder, source: RegistryEndpoint, layerSize = MiB): Promise<DataSet> {
  const pool = await Promise.all(
    Array.from({ length: 25 }, (_, i) => builder.layer({ size: layerSize, seed: `bench-a/pool-${i}`, level: 0 })),
  );
  const work: Array<{ r: number; t: number }> = [];
  for (let r = 0; r < 50; r++) for (let t = 1; t <= 2; t++) work.push({ r, t });
  const pushed: Array<{ image: BenchImage; target: BuiltManifest }> = [];
  await inParallel(work, 4, async ({ r, t }) => {
    const name = `r${String(r).padStart(2, '0')}`;
    const repoLayer = await builder.layer({ size: layerSize, seed: `bench-a/${name}/repo`, level: 0 });
    const own = await builder.layer({ size: layerSize, seed: `bench-a/${name}/t${t}`, level: 0 });
    const image = await builder.image({
      format: 'oci',
      layers: [pool[r % 25]!, repoLayer, own],
      seed: `bench-a/${name}/t${t}`,
    });
    const srcRepo = `bench-a/${name}`;
    await pushImage(source, srcRepo, `t${t}`, image, builder);
    pushed.push({ image: { srcRepo, name, tag: `t${t}`, digest: image.digest }, target: image });
  });
  pushed.sort((x, y) => `${x.image.name}:${x.image.tag}`.localeCompare(`${y.image.name}:${y.image.tag}`));
  return summarize('a', '100 images (50 repos × 2 tags × 3 × 1 MiB layers, half shared)', 'sync', pushed);
}

/** (b) one image of 4 × 64 MiB layers. */
export async function buildSetB(builder: ImageBuilder, source: RegistryEndpoint): Promise<DataSet> {
  const layers = await Promise.all(
    [0, 1, 2, 3].map((i) => builder.layer({ size: 64 * MiB, seed: `bench-b/${i}`, level: 0 })),
  );
  const image = await builder.image({ format: 'oci', layers, seed: 'bench-b' });
  await pushImage(source, 'bench-b/big', 'v1', image, builder);
  return summarize('b', '1 image, 4 × 64 MiB layers', 'copy', [
    { image: { srcRepo: 'bench-b/big', name: 'big', tag: 'v1', digest: image.digest }, target: image },
  ]);
}

/** (c) an amd64 + arm64 index: two shared 48 MiB layers and one 48 MiB layer per platform (192 MiB unique). */
export async function buildSetC(builder: ImageBuilder, source: RegistryEndpoint): Promise<DataSet> {
  const shared = await Promise.all(
    [0, 1].map((i) => builder.layer({ size: 48 * MiB, seed: `bench-c/shared-${i}`, level: 0 })),
  );
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ];
  const manifests = await Promise.all(
    platforms.map(async (platform) => {
      const own = await builder.layer({ size: 48 * MiB, seed: `bench-c/${platform.architecture}`, level: 0 });
      return builder.image({
        format: 'oci',
        layers: [...shared, own],
        platform,
        seed: `bench-c/${platform.architecture}`,
      });
    }),
  );
  const index = await builder.index({ format: 'oci', manifests });
  await pushImage(source, 'bench-c/multi', 'v1', index, builder);
  return summarize('c', 'amd64 + arm64 index, 192 MiB (2 shared layers)', 'copy', [
    { image: { srcRepo: 'bench-c/multi', name: 'multi', tag: 'v1', digest: index.digest }, target: index },
  ]);
}

/** (d) one image with one 1 GiB layer. */
export async function buildSetD(builder: ImageBuilder, source: RegistryEndpoint, size = 1024 * MiB): Promise<DataSet> {
  const layer = await builder.layer({ size, seed: 'bench-d', level: 0 });
  const image = await builder.image({ format: 'oci', layers: [layer], seed: 'bench-d' });
  await pushImage(source, 'bench-d/huge', 'v1', image, builder);
  return summarize('d', `1 image, one ${Math.round(size / MiB)} MiB layer`, 'copy', [
    { image: { srcRepo: 'bench-d/huge', name: 'huge', tag: 'v1', digest: image.digest }, target: image },
  ]);
}

/**
 * (e) one repository with `count` tags, each a distinct small OCI manifest (same config and 4 KiB layer, an
 * annotation naming the tag). Tags are written with one manifest PUT each. Returns tag → digest.
 */
export async function buildPlanRepo(
  builder: ImageBuilder,
  source: RegistryEndpoint,
  repo: string,
  count: number,
): Promise<Map<string, string>> {
  const layer = await builder.layer({ size: 4096, seed: 'bench-e/layer', level: 0 });
  const base = await builder.image({ format: 'oci', layers: [layer], seed: 'bench-e' });
  await pushImage(source, repo, 'base', base, builder);
  const strip = (d: { mediaType: string; digest: string; size: number }) => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
  });
  const session = new RegistrySession(source);
  const tags = Array.from({ length: count }, (_, i) => `t${String(i).padStart(5, '0')}`);
  const digests = new Map<string, string>();
  await inParallel(tags, 16, async (tag) => {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: strip(base.config),
        layers: base.layers.map(strip),
        annotations: { 'org.example.bench.tag': tag },
      }),
    );
    const reply = await session.send({
      method: 'PUT',
      target: `/v2/${repo}/manifests/${tag}`,
      repository: repo,
      actions: 'pull,push',
      headers: { 'content-type': MediaType.ociManifest },
      body: bytes,
    });
    if (reply.status !== 201) throw new Error(`bench setup: PUT ${repo}:${tag} answered ${reply.status}`);
    digests.set(tag, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });
  // The `base` tag is part of the repository too.
  digests.set('base', base.digest);
  return digests;
}
