import { shortDigest } from '../oci/digest.js';
import { printable } from './escape.js';
import type { ImageResult } from '../engine/image-result.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1 image`, `2 images`: a count with its noun in the right number. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * One human line per image, as the CLI prints it (plus a `note:` line of our own). Every field a registry could
 * have chosen (tags in the references, error text, platforms, digests) goes through `printable`, so the line holds
 * no terminal escape and no line break of the registry's.
 */
export function formatImageLine(result: ImageResult): string {
  const arrow = `${printable(result.source)} -> ${printable(result.destination)}`;
  if (result.status === 'failed') return `failed     ${arrow}: ${printable(result.error?.message ?? 'unknown error')}`;
  if (result.status === 'skipped')
    return `skipped    ${arrow}: ${printable(result.note ?? 'left out by the platform filter')}`;
  const platforms = result.platforms.length ? ` [${printable(result.platforms.join(', '))}]` : '';
  const bytes =
    result.status === 'copied'
      ? ` (${formatBytes(result.bytesTransferred)} transferred, ${formatBytes(result.bytesSkipped)} skipped; blobs ${result.blobs.copied} copied, ${result.blobs.mounted} mounted, ${result.blobs.present} present)`
      : '';
  const note = result.note ? `\n           note: ${printable(result.note)}` : '';
  const r = result.referrers;
  const referrers = r
    ? `; referrers ${r.found} found, ${r.copied} copied, ${r.tags} tags written${r.skipped ? `, ${r.skipped} skipped` : ''}`
    : '';
  return `${result.status.padEnd(10)} ${arrow} ${result.digest ? printable(shortDigest(result.digest)) : ''}${platforms}${bytes}${referrers} in ${formatDuration(result.durationMs)}${note}`;
}
