import { SwrSyncError } from '../errors.js';

/** Platform of an index entry (image-spec image-index.md, "platform"). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

const PLATFORM = /^([a-z0-9_]+)\/([a-z0-9_]+)(?:\/([a-z0-9_.]+))?$/;

/** Parses `os/arch[/variant]`. */
export function parsePlatform(text: string, argument = '--platform'): Platform {
  const match = PLATFORM.exec(text.trim());
  if (!match) {
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${argument} "${text}" is not os/arch[/variant] (e.g. linux/amd64, linux/arm64/v8)`);
  }
  const [, os, architecture, variant] = match as unknown as [string, string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function parsePlatforms(list: string | readonly string[], argument = '--platform'): Platform[] {
  const items = (typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(','))).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${argument} is empty: give os/arch[/variant],...`);
  return items.map((item) => parsePlatform(item, argument));
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/**
 * containerd's platforms.Normalize: arm64 without a variant is v8, and a requested platform without a variant
 * matches any variant of its architecture.
 */
function normalizedVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === '')) return 'v8';
  return p.variant || undefined;
}

export function platformMatches(wanted: Platform, candidate: Platform | undefined): boolean {
  if (!candidate) return false;
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  if (wanted.variant === undefined) return true;
  return normalizedVariant(wanted) === normalizedVariant(candidate);
}

/** BuildKit's attestation manifests are listed with platform unknown/unknown (docs: "attestation storage"). */
export function isAttestation(annotations: Readonly<Record<string, string>> | undefined, platform: Platform | undefined): boolean {
  return annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (platform?.os === 'unknown' && platform.architecture === 'unknown');
}
