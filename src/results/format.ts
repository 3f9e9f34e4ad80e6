import { shortDigest } from '../oci/digest.js';
import type { ImageResult } from './image-result.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

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

/** One human line per image, as the CLI prints it. */
export function formatImageLine(result: ImageResult): string {
  const arrow = `${result.source} -> ${result.destination}`;
  if (result.status === 'failed') return `failed     ${arrow}: ${result.error?.message ?? 'unknown error'}`;
  const platforms = result.platforms.length ? ` [${result.platforms.join(', ')}]` : '';
  const bytes = result.status === 'copied'
    ? ` (${formatBytes(result.bytesTransferred)} transferred, ${formatBytes(result.bytesSkipped)} skipped; blobs ${result.blobs.copied} copied, ${result.blobs.mounted} mounted, ${result.blobs.present} present)`
    : '';
  const note = result.note ? `\n           note: ${result.note}` : '';
  const r = result.referrers;
  const referrers = r ? `; referrers ${r.found} found, ${r.copied} copied, ${r.tags} tags written${r.skipped ? `, ${r.skipped} skipped` : ''}` : '';
  return `${result.status.padEnd(10)} ${arrow} ${result.digest ? shortDigest(result.digest) : ''}${platforms}${bytes}${referrers} in ${formatDuration(result.durationMs)}${note}`;
}
