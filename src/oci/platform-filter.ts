import { SwrSyncError } from '../errors.js';
import type { Descriptor } from './manifest.js';
import { formatPlatform, isAttestation, platformMatches, type Platform } from './platform.js';
import type { Reference } from './reference.js';

/**
 * Children of an index that match the wanted platforms, plus the attestation manifests (BuildKit
 * `vnd.docker.reference.digest`) that describe a kept child, so provenance and SBOMs stay with their image.
 */
export function selectPlatforms(
  manifests: readonly Descriptor[],
  wanted: readonly Platform[],
  src: Reference,
): Descriptor[] {
  const images = manifests.filter(
    (m) => !isAttestation(m.annotations, m.platform) && wanted.some((w) => platformMatches(w, m.platform)),
  );
  if (images.length === 0) {
    const available = manifests
      .filter((m) => m.platform && !isAttestation(m.annotations, m.platform))
      .map((m) => formatPlatform(m.platform!));
    throw new SwrSyncError(
      'ERR_PLATFORM_NOT_FOUND',
      `${src}: none of the requested platforms (${wanted.map(formatPlatform).join(', ')}) is in the index; it has ${available.join(', ') || 'no platform entries'}`,
      { registry: src.registry, repository: src.repository },
    );
  }
  const kept = new Set(images.map((m) => m.digest));
  return manifests.filter(
    (m) =>
      kept.has(m.digest) ||
      (isAttestation(m.annotations, m.platform) && kept.has(m.annotations?.['vnd.docker.reference.digest'] ?? '')),
  );
}

/** A new index holding only `children`, every other field kept as the source wrote it. */
export function rewriteIndex(original: Buffer, children: readonly Descriptor[]): Buffer {
  const index = JSON.parse(original.toString('utf8')) as Record<string, unknown> & { manifests: Descriptor[] };
  const keep = new Set(children.map((c) => c.digest));
  index.manifests = index.manifests.filter((m) => keep.has(m.digest));
  return Buffer.from(JSON.stringify(index));
}

/**
 * The index to write for a platform filter: the source bytes untouched when every entry is kept (or no filter
 * is set), else a new index of the kept entries.
 */
export function filterIndex(
  bytes: Buffer,
  manifests: readonly Descriptor[],
  wanted: readonly Platform[] | undefined,
  src: Reference,
): { bytes: Buffer; children: readonly Descriptor[]; filtered: boolean } {
  if (!wanted || wanted.length === 0) return { bytes, children: manifests, filtered: false };
  const children = selectPlatforms(manifests, wanted, src);
  if (children.length === manifests.length) return { bytes, children, filtered: false };
  return { bytes: rewriteIndex(bytes, children), children, filtered: true };
}
