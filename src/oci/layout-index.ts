import { InvalidReferenceError, SwrSyncError } from '../errors.js';
import { digestProblem } from './digest.js';
import { MediaType, type Descriptor } from './manifest.js';
import { refNameProblem, sourceIndexOf } from './reference.js';

/**
 * The two files that make a directory an OCI image layout (image-spec image-layout.md): `oci-layout`, the marker
 * with `imageLayoutVersion`, and `index.json`, an image index whose `manifests` are the layout's entry points, a
 * "tag" being the annotation `org.opencontainers.image.ref.name` on an entry. Blobs live at `blobs/<alg>/<encoded>`.
 * Plain data and pure functions; reading and writing the files is the layout store's business.
 */

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const LAYOUT_MARKER_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const BLOBS_DIR = 'blobs';
export const LAYOUT_VERSION = '1.0.0';
/** The `oci-layout` file skopeo writes, byte for byte. */
export const LAYOUT_MARKER = Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
/** index.json is metadata, but a layout may list many images; anything larger is not an index. */
export const INDEX_MAX_BYTES = 64 * 1024 * 1024;

export interface LayoutIndex {
  /** index.json as read, so a rewrite keeps fields this tool does not know (annotations, subject...). */
  readonly document: Readonly<Record<string, unknown>>;
  readonly manifests: readonly Descriptor[];
}

export function emptyLayoutIndex(): LayoutIndex {
  return { document: { schemaVersion: 2, mediaType: MediaType.OciIndex }, manifests: [] };
}

/** `blobs/<alg>/<encoded>` for a digest; a digest that is not one is refused rather than turned into a path. */
export function blobPath(digest: string): string {
  const problem = digestProblem(digest);
  if (problem) throw new SwrSyncError('ERR_LAYOUT', `"${digest}" is not a blob digest: ${problem}`);
  const colon = digest.indexOf(':');
  return `${BLOBS_DIR}/${digest.slice(0, colon)}/${digest.slice(colon + 1)}`;
}

/** Checks the `oci-layout` marker: a JSON object whose `imageLayoutVersion` is 1.x. */
export function checkLayoutMarker(bytes: Buffer, where: string): void {
  let marker: unknown;
  try {
    marker = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new SwrSyncError(
      'ERR_LAYOUT',
      `${where}: ${LAYOUT_MARKER_FILE} is not JSON (expected {"imageLayoutVersion": "${LAYOUT_VERSION}"})`,
      { cause },
    );
  }
  const version = (marker as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof version !== 'string' || !/^1\.\d+\.\d+/.test(version)) {
    throw new SwrSyncError(
      'ERR_LAYOUT',
      `${where}: ${LAYOUT_MARKER_FILE} has imageLayoutVersion ${JSON.stringify(version)}; this tool reads layout version 1.x`,
    );
  }
}

/** Parses index.json; every entry must be a descriptor (mediaType, digest, size), as image-index.md requires. */
export function parseLayoutIndex(bytes: Buffer, where: string): LayoutIndex {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new SwrSyncError('ERR_LAYOUT', `${where}: ${INDEX_FILE} is not JSON`, { cause });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new SwrSyncError('ERR_LAYOUT', `${where}: ${INDEX_FILE} must be an image index object`);
  }
  const record = document as Record<string, unknown>;
  if (record.schemaVersion !== 2) {
    throw new SwrSyncError(
      'ERR_LAYOUT',
      `${where}: ${INDEX_FILE} has schemaVersion ${JSON.stringify(record.schemaVersion)}, expected 2`,
    );
  }
  const list = record.manifests ?? [];
  if (!Array.isArray(list)) throw new SwrSyncError('ERR_LAYOUT', `${where}: ${INDEX_FILE} "manifests" must be a list`);
  const manifests = list.map((entry, i) => {
    const d = entry as Record<string, unknown> | null;
    const ok =
      d !== null &&
      typeof d === 'object' &&
      typeof d.mediaType === 'string' &&
      typeof d.digest === 'string' &&
      digestProblem(d.digest) === undefined &&
      Number.isSafeInteger(d.size) &&
      (d.size as number) >= 0;
    if (!ok)
      throw new SwrSyncError(
        'ERR_LAYOUT',
        `${where}: ${INDEX_FILE} manifests[${i}] is not a descriptor with mediaType, digest and size`,
      );
    return d as unknown as Descriptor;
  });
  return { document: record, manifests };
}

export function serializeLayoutIndex(index: LayoutIndex): Buffer {
  return Buffer.from(JSON.stringify({ ...index.document, manifests: index.manifests }));
}

export function refNameOf(descriptor: Descriptor): string | undefined {
  const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The ref names of the layout, in index order, each once: what "all tags" of a layout means. */
export function refNames(index: LayoutIndex): string[] {
  return [...new Set(index.manifests.map(refNameOf).filter((n): n is string => n !== undefined))];
}

/**
 * The entry a reference's REF selects (skopeo's oci: transport): '' the only entry (more or fewer is the user's
 * reference being ambiguous), `@N` the N-th, a ref name the first entry carrying it. Undefined when no entry has
 * the name. `display` is the reference as the user wrote it, for messages.
 */
export function findManifest(index: LayoutIndex, ref: string, display: string): Descriptor | undefined {
  if (ref === '') {
    if (index.manifests.length === 1) return index.manifests[0];
    const names = refNames(index);
    throw new InvalidReferenceError(
      display,
      `the layout holds ${index.manifests.length} manifests${names.length > 0 ? ` (ref names: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''})` : ''}; without :REF it must hold exactly one: name one as :REF or :@N`,
    );
  }
  const position = sourceIndexOf(ref);
  if (position !== undefined) {
    const entry = index.manifests[position];
    if (!entry)
      throw new InvalidReferenceError(
        display,
        `source index @${position} is out of range: the layout holds ${index.manifests.length} manifests (@0 to @${index.manifests.length - 1})`,
      );
    return entry;
  }
  return index.manifests.find((d) => refNameOf(d) === ref);
}

/**
 * index.json with `descriptor` recorded under the ref name `ref`: an entry already carrying the name is replaced,
 * and so is an unnamed entry of the same digest (skopeo does the latter too), so writing an image twice leaves
 * one entry. Other entries keep their place.
 */
export function withRef(index: LayoutIndex, descriptor: Descriptor, ref: string): LayoutIndex {
  const problem = refNameProblem(ref);
  if (problem) throw new InvalidReferenceError(ref, problem);
  const entry: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.platform ? { platform: descriptor.platform } : {}),
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
    annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: ref },
  };
  const replaced = (d: Descriptor): boolean =>
    refNameOf(d) === ref || (refNameOf(d) === undefined && d.digest === descriptor.digest);
  const at = index.manifests.findIndex(replaced);
  const kept = index.manifests.filter((d) => !replaced(d));
  const manifests = at < 0 ? [...kept, entry] : [...kept.slice(0, at), entry, ...kept.slice(at)];
  return { document: index.document, manifests };
}
