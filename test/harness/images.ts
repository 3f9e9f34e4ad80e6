import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';

/**
 * Builds test images without a daemon into an OCI image layout (image-spec `image-layout.md`: `oci-layout`,
 * `index.json`, `blobs/sha256/<hex>`), so that large layers live on disk and uploads stream from files.
 * Every manifest is serialized once; its digest is SHA-256 over exactly those bytes, which is what a copy must
 * preserve (a client that re-serializes JSON changes the digest).
 */

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  inToto: 'application/vnd.in-toto+json',
} as const;

export type ImageFormat = 'docker' | 'oci';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** Layers only: SHA-256 of the uncompressed tar, as listed in the config's `rootfs.diff_ids`. Never serialized. */
  diffId?: string;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
  /** Inline content (image-spec `descriptor.md`), used for the empty descriptor. */
  data?: string;
}

export interface BuiltManifest {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  platform?: Platform;
  artifactType?: string;
  /** Set on BuildKit-style attestation manifests: the digest of the image they describe. */
  attestationFor?: string;
}

export interface BuiltIndex {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
  children: BuiltManifest[];
}

export interface LayerOptions {
  size: number;
  /** Same seed and size give the same bytes and digests; without one the content is random. */
  seed?: string | number;
  /**
   * gzip level, 1 by default. The content is random, so any level > 0 yields about the same bytes (~115 MB/s);
   * 0 stores without deflate (~500 MB/s), for benchmarks that only move bytes.
   */
  level?: number;
}

export interface ImageOptions {
  format: ImageFormat;
  /** Layers to use, or how many to generate (default 1) of `layerSize` bytes (default 1 KiB). */
  layers?: Descriptor[] | number;
  layerSize?: number;
  /** linux/amd64 by default. */
  platform?: Platform;
  /** Makes generated layers and the config deterministic; without it each call builds a distinct image. */
  seed?: string;
  /** OCI only: Docker schema 2 has no annotations. */
  annotations?: Record<string, string>;
}

export interface IndexOptions {
  format: ImageFormat;
  manifests: BuiltManifest[];
  /** Add a BuildKit-style attestation manifest per image. */
  attestation?: boolean;
  /** OCI only. */
  annotations?: Record<string, string>;
}

export interface MultiArchOptions {
  format: ImageFormat;
  layerSize?: number;
  attestation?: boolean;
  /** Layers both platforms share (default 1); each platform also gets one layer of its own. */
  sharedLayers?: number;
  seed?: string;
}

export interface ArtifactOptions {
  artifactType?: string;
  /** The manifest this artifact refers to (OCI 1.1 `subject`). */
  subject?: BuiltManifest | BuiltIndex;
  seed?: string;
  annotations?: Record<string, string>;
  /** The one layer: by default a small SPDX-like SBOM (`application/vnd.example.sbom+json`). */
  payload?: { mediaType: string; bytes: Buffer; annotations?: Record<string, string> };
}

/** cosign's tag-based attachments (cosign specs/SIGNATURE_SPEC.md): `.sig`, `.att`, `.sbom`. */
export type CosignKind = 'sig' | 'att' | 'sbom';

export interface CosignOptions {
  kind: CosignKind;
  /** What is signed or described. */
  subject: BuiltManifest | BuiltIndex;
  seed?: string;
}

export const EPOCH = '1970-01-01T00:00:00Z';
const CHUNK = 1 << 20;
const SEED_LABEL = 'org.example.harness.seed';
/** `{}`: the image-spec's empty descriptor content, used as an artifact's config. */
const EMPTY_JSON = Buffer.from('{}');

export class ImageBuilder {
  readonly dir: string;
  private readonly layerCache = new Map<string, Promise<Descriptor>>();
  private indexWrite: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const layoutFile = join(dir, 'oci-layout');
    if (!existsSync(layoutFile)) writeFileSync(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const indexFile = join(dir, 'index.json');
    if (!existsSync(indexFile)) {
      writeFileSync(indexFile, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    }
  }

  /** A builder over a fresh temporary directory (under /dev/shm with `tmpfs`); remove it with dispose(). */
  static async temporary(opts: { tmpfs?: boolean } = {}): Promise<ImageBuilder> {
    const base = opts.tmpfs && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    return new ImageBuilder(await mkdtemp(join(base, 'harness-images-')));
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  blobPath(digest: string): string {
    const match = /^sha256:([a-f0-9]{64})$/.exec(digest);
    if (match === null) throw new Error(`not a sha256 digest: ${digest}`);
    return join(this.dir, 'blobs', 'sha256', match[1]!);
  }

  readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /**
   * A gzip'ed tar holding one file of `size` pseudo-random bytes, streamed to disk. The keystream is AES-256-CTR
   * under a key derived from the seed: incompressible like real binaries, fast, and reproducible. The tar and
   * gzip headers carry mtime 0, so equal seeds give equal digests.
   */
  layer(opts: LayerOptions): Promise<Descriptor> {
    const level = opts.level ?? 1;
    if (opts.seed === undefined) return this.writeLayer(opts.size, randomBytes(32), level);
    const cacheKey = `${opts.seed}\0${opts.size}\0${level}`;
    let cached = this.layerCache.get(cacheKey);
    if (cached === undefined) {
      const key = createHash('sha256').update(`harness-layer\0${opts.seed}`).digest();
      cached = this.writeLayer(opts.size, key, level);
      cached.catch(() => this.layerCache.delete(cacheKey));
      this.layerCache.set(cacheKey, cached);
    }
    return cached.then((d) => ({ ...d }));
  }

  async image(opts: ImageOptions): Promise<BuiltManifest> {
    if (opts.format === 'docker' && opts.annotations !== undefined) {
      throw new Error('image: Docker schema 2 manifests have no annotations');
    }
    const seed = opts.seed ?? randomBytes(8).toString('hex');
    const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
    const layers = Array.isArray(opts.layers)
      ? opts.layers
      : await Promise.all(
          Array.from({ length: opts.layers ?? 1 }, (_, i) =>
            this.layer({ size: opts.layerSize ?? 1024, seed: `${seed}/layer-${i}` }),
          ),
        );
    for (const layer of layers) {
      if (layer.diffId === undefined) throw new Error(`image: layer ${layer.digest} has no diffId`);
    }
    const docker = opts.format === 'docker';

    // image-spec `config.md`; Docker's image v1.2 config has the same shape for these fields.
    const config = descriptorOf(
      await this.writeJson(
        docker ? MediaType.dockerConfig : MediaType.ociConfig,
        {
          created: EPOCH,
          architecture: platform.architecture,
          ...(platform.variant !== undefined && { variant: platform.variant }),
          os: platform.os,
          config: {
            Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
            Labels: { [SEED_LABEL]: seed },
          },
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
          history: layers.map(() => ({ created: EPOCH, created_by: 'test harness' })),
        },
        0,
      ),
    );
    const layerType = docker ? MediaType.dockerLayer : MediaType.ociLayer;
    const typedLayers = layers.map((l) => ({ ...l, mediaType: layerType }));
    const mediaType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
    const manifest = {
      schemaVersion: 2,
      mediaType,
      config: wire(config),
      layers: typedLayers.map(wire),
      ...(opts.annotations !== undefined && { annotations: opts.annotations }),
    };
    // Indented like the Docker engine (3 spaces) and BuildKit (2): non-canonical on purpose, see the header.
    const written = await this.writeJson(mediaType, manifest, docker ? 3 : 2);
    return { ...written, config, layers: typedLayers, platform };
  }

  async index(opts: IndexOptions): Promise<BuiltIndex> {
    const docker = opts.format === 'docker';
    if (docker && opts.annotations !== undefined) throw new Error('index: Docker manifest lists have no annotations');
    const images = opts.manifests;
    const attestations = opts.attestation ? await Promise.all(images.map((m) => this.attestation(m))) : [];
    const entries = [...images, ...attestations].map((m) => {
      if (m.platform === undefined && docker) throw new Error(`index: manifest ${m.digest} has no platform`);
      return wire({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType !== undefined && !docker && { artifactType: m.artifactType }),
        ...(m.platform !== undefined && { platform: m.platform }),
        ...(m.attestationFor !== undefined && {
          // How BuildKit links an attestation to its image inside an index.
          annotations: {
            'vnd.docker.reference.digest': m.attestationFor,
            'vnd.docker.reference.type': 'attestation-manifest',
          },
        }),
      });
    });
    const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
    const written = await this.writeJson(
      mediaType,
      {
        schemaVersion: 2,
        mediaType,
        manifests: entries,
        ...(opts.annotations !== undefined && { annotations: opts.annotations }),
      },
      docker ? 3 : 2,
    );
    return { ...written, children: [...images, ...attestations] };
  }

  /** linux/amd64 and linux/arm64/v8 images sharing `sharedLayers` layers, in an index. */
  async multiArch(opts: MultiArchOptions): Promise<BuiltIndex> {
    const seed = opts.seed ?? randomBytes(8).toString('hex');
    const size = opts.layerSize ?? 1024;
    const shared = await Promise.all(
      Array.from({ length: opts.sharedLayers ?? 1 }, (_, i) => this.layer({ size, seed: `${seed}/shared-${i}` })),
    );
    const platforms: Platform[] = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ];
    const manifests = await Promise.all(
      platforms.map(async (platform) => {
        const own = await this.layer({ size, seed: `${seed}/${platform.architecture}` });
        return this.image({
          format: opts.format,
          layers: [...shared, own],
          platform,
          seed: `${seed}/${platform.architecture}`,
        });
      }),
    );
    return this.index({
      format: opts.format,
      manifests,
      ...(opts.attestation !== undefined && { attestation: opts.attestation }),
    });
  }

  /**
   * A non-image artifact as the image-spec's "Guidelines for Artifact Usage" (OCI 1.1) describe it: `artifactType`
   * set, the config the empty descriptor (`{}`, application/vnd.oci.empty.v1+json), the payload in `layers`.
   */
  async artifact(opts: ArtifactOptions = {}): Promise<BuiltManifest> {
    const seed = opts.seed ?? randomBytes(8).toString('hex');
    const artifactType = opts.artifactType ?? 'application/vnd.example.sbom.v1';
    const config: Descriptor = {
      ...descriptorOf(await this.writeBlob(MediaType.ociEmpty, EMPTY_JSON)),
      data: EMPTY_JSON.toString('base64'),
    };
    const sbom = opts.payload
      ? await this.writeBlob(opts.payload.mediaType, opts.payload.bytes)
      : await this.writeJson(
          'application/vnd.example.sbom+json',
          { spdxVersion: 'SPDX-2.3', name: `harness-${seed}`, packages: [{ name: 'example', versionInfo: '1.0.0' }] },
          0,
        );
    const payload: Descriptor = {
      mediaType: sbom.mediaType,
      digest: sbom.digest,
      size: sbom.size,
      ...(opts.payload?.annotations !== undefined && { annotations: opts.payload.annotations }),
    };
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType,
      config: wire(config),
      layers: [wire(payload)],
      ...(opts.subject !== undefined && {
        subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size },
      }),
      ...(opts.annotations !== undefined && { annotations: opts.annotations }),
    };
    const written = await this.writeJson(MediaType.ociManifest, manifest, 2);
    return { ...written, config, layers: [payload], artifactType };
  }

  /**
   * A manifest as cosign stores it under its `sha256-<hex>.sig` / `.att` / `.sbom` tags: an OCI image manifest with
   * an image config (empty os/architecture) and one payload layer, no `subject` and no `artifactType`. The payloads
   * have the real shapes (a simple-signing claim, a DSSE envelope of an in-toto statement, an SPDX document); the
   * signatures are random bytes, as nothing here verifies them.
   */
  async cosign(opts: CosignOptions): Promise<BuiltManifest> {
    const seed = opts.seed ?? randomBytes(8).toString('hex');
    const signature = createHash('sha256').update(`cosign\0${seed}`).digest('base64');
    const hex = opts.subject.digest.slice('sha256:'.length);
    let layer: Descriptor & { bytes: Buffer };
    if (opts.kind === 'sig') {
      const claim = await this.writeJson(
        'application/vnd.dev.cosign.simplesigning.v1+json',
        {
          critical: {
            identity: { 'docker-reference': 'harness/image' },
            image: { 'docker-manifest-digest': opts.subject.digest },
            type: 'cosign container image signature',
          },
          optional: { seed },
        },
        0,
      );
      layer = { ...claim, annotations: { 'dev.cosignproject.cosign/signature': signature } };
    } else if (opts.kind === 'att') {
      const statement = {
        _type: 'https://in-toto.io/Statement/v0.1',
        predicateType: 'https://slsa.dev/provenance/v0.2',
        subject: [{ name: 'harness/image', digest: { sha256: hex } }],
        predicate: { builder: { id: `harness-${seed}` } },
      };
      const envelope = await this.writeJson(
        'application/vnd.dsse.envelope.v1+json',
        {
          payloadType: 'application/vnd.in-toto+json',
          payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
          signatures: [{ keyid: '', sig: signature }],
        },
        0,
      );
      layer = { ...envelope, annotations: { predicateType: statement.predicateType } };
    } else {
      layer = await this.writeJson(
        'text/spdx+json',
        {
          spdxVersion: 'SPDX-2.3',
          SPDXID: 'SPDXRef-DOCUMENT',
          name: `harness-${seed}`,
          packages: [{ name: 'example', SPDXID: 'SPDXRef-example', versionInfo: '1.0.0' }],
        },
        0,
      );
    }
    const config = descriptorOf(
      await this.writeJson(
        MediaType.ociConfig,
        {
          architecture: '',
          created: '0001-01-01T00:00:00Z',
          history: [{ created: '0001-01-01T00:00:00Z' }],
          os: '',
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          config: {},
        },
        0,
      ),
    );
    const layerDescriptor: Descriptor = {
      mediaType: layer.mediaType,
      digest: layer.digest,
      size: layer.size,
      ...(layer.annotations !== undefined && { annotations: layer.annotations }),
    };
    const written = await this.writeJson(
      MediaType.ociManifest,
      { schemaVersion: 2, mediaType: MediaType.ociManifest, config: wire(config), layers: [wire(layerDescriptor)] },
      0,
    );
    return { ...written, config, layers: [layerDescriptor] };
  }

  /** Names `target` in the layout's index.json (`org.opencontainers.image.ref.name`), replacing an earlier use. */
  tag(name: string, target: BuiltManifest | BuiltIndex): Promise<void> {
    const refName = 'org.opencontainers.image.ref.name';
    const write = async (): Promise<void> => {
      const file = join(this.dir, 'index.json');
      const layoutIndex = JSON.parse(await readFile(file, 'utf8')) as {
        manifests: Array<Record<string, unknown> & Partial<Descriptor>>;
      };
      layoutIndex.manifests = layoutIndex.manifests.filter((d) => d.annotations?.[refName] !== name);
      layoutIndex.manifests.push(
        wire({
          mediaType: target.mediaType,
          digest: target.digest,
          size: target.size,
          ...('artifactType' in target && target.artifactType !== undefined && { artifactType: target.artifactType }),
          annotations: { [refName]: name },
        }),
      );
      await writeFile(`${file}.tmp`, JSON.stringify(layoutIndex, null, 2));
      await rename(`${file}.tmp`, file);
    };
    this.indexWrite = this.indexWrite.then(write, write);
    return this.indexWrite;
  }

  private async writeLayer(size: number, key: Buffer, level: number): Promise<Descriptor> {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`layer: invalid size ${size}`);
    const name = `data/${createHash('sha256').update(key).digest('hex').slice(0, 16)}.bin`;
    const diffId = createHash('sha256');
    const compressed = createHash('sha256');
    let compressedSize = 0;
    const tmp = join(this.dir, 'blobs', `.layer-${randomBytes(8).toString('hex')}`);
    try {
      await pipeline(
        tarOfOneFile(name, size, key),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            diffId.update(chunk);
            yield chunk;
          }
        },
        // zlib writes mtime 0 and a fixed OS byte in the gzip header (RFC 1952), so the output is reproducible.
        // Random content has no matches to find: Huffman-only is ~3x faster than level 1's search and, like it,
        // ends up emitting stored blocks.
        createGzip({ level, strategy: zlibConstants.Z_HUFFMAN_ONLY, chunkSize: 256 * 1024 }),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            compressed.update(chunk);
            compressedSize += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      const digest = `sha256:${compressed.digest('hex')}`;
      await rename(tmp, this.blobPath(digest));
      return { mediaType: MediaType.ociLayer, digest, size: compressedSize, diffId: `sha256:${diffId.digest('hex')}` };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async attestation(image: BuiltManifest): Promise<BuiltManifest> {
    // An in-toto statement about the image, shaped like BuildKit's SBOM attestations.
    const statement = await this.writeJson(
      MediaType.inToto,
      {
        _type: 'https://in-toto.io/Statement/v0.1',
        predicateType: 'https://spdx.dev/Document',
        subject: [{ name: 'pkg:docker/harness/image', digest: { sha256: image.digest.slice('sha256:'.length) } }],
        predicate: { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'harness', packages: [] },
      },
      0,
    );
    const layer: Descriptor = {
      mediaType: MediaType.inToto,
      digest: statement.digest,
      size: statement.size,
      annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' },
    };
    // The statement is stored uncompressed, so its diff_id is its digest.
    const config = descriptorOf(
      await this.writeJson(
        MediaType.ociConfig,
        {
          architecture: 'unknown',
          os: 'unknown',
          config: {},
          rootfs: { type: 'layers', diff_ids: [statement.digest] },
        },
        0,
      ),
    );
    const written = await this.writeJson(
      MediaType.ociManifest,
      { schemaVersion: 2, mediaType: MediaType.ociManifest, config: wire(config), layers: [wire(layer)] },
      2,
    );
    return {
      ...written,
      config,
      layers: [layer],
      platform: { architecture: 'unknown', os: 'unknown' },
      attestationFor: image.digest,
    };
  }

  private writeJson(mediaType: string, value: unknown, indent: number): Promise<Descriptor & { bytes: Buffer }> {
    return this.writeBlob(mediaType, Buffer.from(JSON.stringify(value, null, indent || undefined)));
  }

  private async writeBlob(mediaType: string, bytes: Buffer): Promise<Descriptor & { bytes: Buffer }> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const path = this.blobPath(digest);
    if (!existsSync(path)) {
      const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    }
    return { mediaType, digest, size: bytes.length, bytes };
  }
}

export function isIndex(target: BuiltManifest | BuiltIndex): target is BuiltIndex {
  return 'children' in target;
}

function descriptorOf(blob: { mediaType: string; digest: string; size: number }): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

/** A descriptor as it goes on the wire: the fields the image-spec defines, in its order; never `diffId`. */
function wire(d: Descriptor): Record<string, unknown> {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.artifactType !== undefined && { artifactType: d.artifactType }),
    ...(d.data !== undefined && { data: d.data }),
    ...(d.annotations !== undefined && { annotations: d.annotations }),
    ...(d.platform !== undefined && {
      platform: {
        architecture: d.platform.architecture,
        os: d.platform.os,
        ...(d.platform.variant !== undefined && { variant: d.platform.variant }),
      },
    }),
  };
}

/** A ustar archive (POSIX.1-1988) holding `name`: header, content, padding to 512, then two zero blocks. */
async function* tarOfOneFile(name: string, size: number, key: Buffer): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  const keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = size; left > 0; left -= CHUNK) {
    yield keystream.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
  }
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  octal(header, 100, 8, 0o644);
  octal(header, 108, 8, 0);
  octal(header, 116, 8, 0);
  if (size <= 0o77777777777) {
    octal(header, 124, 12, size);
  } else {
    // GNU base-256 for files of 8 GiB and more: high bit set, big-endian value.
    header[124] = 0x80;
    header.writeBigUInt64BE(BigInt(size), 128);
  }
  octal(header, 136, 12, 0);
  header.write('0', 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, 'latin1');
}
