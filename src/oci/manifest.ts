import { SwrSyncError } from '../errors.js';
import { BUDGETS } from './budgets.js';
import { digestProblem } from './digest.js';
import type { Platform } from './platform.js';

/** Media types of the OCI image-spec (manifest.md, image-index.md) and Docker's image manifest v2 schema 2. */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Sent on every manifest request so the registry returns the stored bytes rather than a down-converted form. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
].join(', ');

/** Distribution refuses manifests over 4 MiB (distribution-spec: "registries MAY impose a limit"; 4 MiB is common). */
export const MANIFEST_MAX_BYTES = BUDGETS.manifestBytes;

/** An OCI content descriptor (image-spec descriptor.md): media type, digest and size of a blob or manifest. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly artifactType?: string;
}

export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
}

export type Manifest = ImageManifest | ImageIndex;

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/**
 * Layers that registries are not expected to hold (image-spec layer.md, "non-distributable"; Docker "foreign"
 * layers): they are fetched from their `urls`, so a copy leaves them where they are, as docker and skopeo do.
 */
export function isNonDistributable(descriptor: Descriptor): boolean {
  return /(foreign|nondistributable)/.test(descriptor.mediaType) && (descriptor.urls?.length ?? 0) > 0;
}

/**
 * Parses manifest bytes as received. The bytes themselves are what gets copied; this view only finds the children.
 * `mediaType` is the response's Content-Type, which wins over the body's optional `mediaType` field.
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: { registry: string; repository: string },
): Manifest {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new SwrSyncError(
      'ERR_UNSUPPORTED_MANIFEST',
      `manifest of ${where.registry}/${where.repository} is not valid JSON`,
      { ...where, cause },
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SwrSyncError(
      'ERR_UNSUPPORTED_MANIFEST',
      `manifest of ${where.registry}/${where.repository}: expected a JSON object`,
      where,
    );
  }
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const type = normalizeContentType(contentType) ?? declared ?? inferMediaType(body);
  if (body.schemaVersion === 1 || type === MediaType.DockerSchema1 || type === MediaType.DockerSchema1Signed) {
    throw new SwrSyncError(
      'ERR_UNSUPPORTED_MANIFEST',
      `${where.registry}/${where.repository} serves a Docker schema 1 manifest, deprecated since 2017 and refused by current registries; rebuild or re-push the image with a current client (expected schema 2 or OCI)`,
      where,
    );
  }
  if (isIndexMediaType(type) || Array.isArray(body.manifests)) {
    if (!Array.isArray(body.manifests)) throw invalid(where, 'an index without a "manifests" array');
    return {
      kind: 'index',
      mediaType: type,
      manifests: body.manifests.map((d, i) => descriptor(d, `manifests[${i}]`, where)),
      ...(body.subject ? { subject: descriptor(body.subject, 'subject', where) } : {}),
    };
  }
  if (body.config === undefined || !Array.isArray(body.layers ?? []))
    throw invalid(where, `media type "${type}" with no config`);
  return {
    kind: 'manifest',
    mediaType: type,
    config: descriptor(body.config, 'config', where),
    layers: ((body.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`, where)),
    ...(body.subject ? { subject: descriptor(body.subject, 'subject', where) } : {}),
  };
}

function normalizeContentType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim();
  // Some registries answer with a generic type; the body then decides.
  if (!type || type === 'application/json' || type === 'application/octet-stream' || type === 'text/plain')
    return undefined;
  return type;
}

function inferMediaType(body: Record<string, unknown>): string {
  if (Array.isArray(body.manifests)) return MediaType.OciIndex;
  return MediaType.OciManifest;
}

function descriptor(value: unknown, path: string, where: { registry: string; repository: string }): Descriptor {
  const d = value as Record<string, unknown> | null;
  if (
    !d ||
    typeof d !== 'object' ||
    typeof d.digest !== 'string' ||
    typeof d.size !== 'number' ||
    typeof d.mediaType !== 'string'
  ) {
    throw invalid(where, `${path} is not a descriptor with mediaType, digest and size`);
  }
  if (!Number.isSafeInteger(d.size) || d.size < 0)
    throw invalid(where, `${path}.size ${String(d.size)} is not a non-negative integer`);
  // The digest names a blob or manifest to fetch and write: a tag-like or path-like "digest" must never reach a URL,
  // a file name or the destination's tag namespace (docs/security.md).
  if (digestProblem(d.digest) !== undefined) {
    throw new SwrSyncError(
      'ERR_INVALID_DIGEST',
      `manifest of ${where.registry}/${where.repository}: ${path}.digest ${JSON.stringify(d.digest.slice(0, 80))} is not a valid digest (algorithm:hex)`,
      where,
    );
  }
  return d as unknown as Descriptor;
}

function invalid(where: { registry: string; repository: string }, what: string): SwrSyncError {
  return new SwrSyncError(
    'ERR_UNSUPPORTED_MANIFEST',
    `manifest of ${where.registry}/${where.repository}: ${what}`,
    where,
  );
}
