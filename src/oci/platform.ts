import { SwrSyncError } from '../errors.js';

/** Platform of an index entry (image-spec image-index.md, "platform"). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

const PLATFORM = /^([a-z0-9_]+|\*)\/([a-z0-9_]+|\*)(?:\/([a-z0-9_.]+))?$/;

/**
 * In a wanted platform, `*` as os or architecture matches any: `linux/*` is image-syncer's `--os linux` alone,
 * and `*` as os before `/arm64` its `--arch arm64` alone.
 */
export const ANY = '*';

/** Parses `os/arch[/variant]`; `*` stands for any os or any architecture. */
export function parsePlatform(text: string, argument = '--platform'): Platform {
  const match = PLATFORM.exec(text.trim());
  if (!match || (match[1] === ANY && match[2] === ANY) || (match[2] === ANY && match[3] !== undefined)) {
    throw new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${argument} "${text}" is not os/arch[/variant] (e.g. linux/amd64, linux/arm64/v8; linux/* for any architecture, */arm64 for any os)`,
    );
  }
  const [, os, architecture, variant] = match as unknown as [string, string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * image-syncer's `--os` and `--arch` lists as platforms: `os[:os.version]` and `arch[:variant]` items (each flag
 * repeatable, items also comma-separated). A platform matches when its os matches one `--os` item and its
 * architecture one `--arch` item, so the filter is every pairing; a list left out matches any.
 */
export function platformsFromOsArch(
  osList: readonly string[] | undefined,
  archList: readonly string[] | undefined,
): Platform[] | undefined {
  const split = (list: readonly string[] | undefined) =>
    (list ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  const oses = split(osList);
  const arches = split(archList);
  if (oses.length === 0 && arches.length === 0) return undefined;
  const item = /^[a-z0-9_]+$/;
  const osItems = oses.map((o) => {
    const [os, version, extra] = o.split(':');
    if (!item.test(os ?? '') || extra !== undefined || version === '')
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        `--os "${o}" is not os[:os.version] (e.g. linux, windows:10.0.17763.1879)`,
      );
    return { os: os!, ...(version !== undefined ? { 'os.version': version } : {}) };
  });
  const archItems = arches.map((a) => {
    const [architecture, variant, extra] = a.split(':');
    if (
      !item.test(architecture ?? '') ||
      extra !== undefined ||
      variant === '' ||
      (variant !== undefined && !/^[a-z0-9_.]+$/.test(variant))
    ) {
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        `--arch "${a}" is not arch[:variant] (e.g. amd64, arm64:v8, arm:v7)`,
      );
    }
    return { architecture: architecture!, ...(variant !== undefined ? { variant } : {}) };
  });
  const osSide = osItems.length > 0 ? osItems : [{ os: ANY }];
  const archSide = archItems.length > 0 ? archItems : [{ architecture: ANY }];
  return osSide.flatMap((o) => archSide.map((a) => ({ ...o, ...a })));
}

/** Parses `os/arch[/variant]` items (one comma-separated string or several); `argument` names the flag or input in errors. */
export function parsePlatforms(list: string | readonly string[], argument = '--platform'): Platform[] {
  const items = (typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(',')))
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${argument} is empty: give os/arch[/variant],...`);
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
  if (
    (wanted.os !== ANY && wanted.os !== candidate.os) ||
    (wanted.architecture !== ANY && wanted.architecture !== candidate.architecture)
  )
    return false;
  if (wanted['os.version'] !== undefined && wanted['os.version'] !== candidate['os.version']) return false;
  if (wanted.variant === undefined) return true;
  return normalizedVariant(wanted) === normalizedVariant(candidate);
}

/** BuildKit's attestation manifests are listed with platform unknown/unknown (docs: "attestation storage"). */
export function isAttestation(
  annotations: Readonly<Record<string, string>> | undefined,
  platform: Platform | undefined,
): boolean {
  return (
    annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (platform?.os === 'unknown' && platform.architecture === 'unknown')
  );
}

/**
 * The platform an image config names (image-spec config.md: `os`, `architecture`, `variant`, `os.version`), or
 * undefined when it names none (an artifact's config, or not JSON). image-syncer's `--os`/`--arch` read a single
 * image's platform from its config the same way.
 */
export function platformOfImageConfig(bytes: Uint8Array): Platform | undefined {
  try {
    const config = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      os?: unknown;
      architecture?: unknown;
      variant?: unknown;
      'os.version'?: unknown;
    };
    if (
      typeof config.os === 'string' &&
      typeof config.architecture === 'string' &&
      config.os !== '' &&
      config.architecture !== ''
    ) {
      return {
        os: config.os,
        architecture: config.architecture,
        ...(typeof config.variant === 'string' && config.variant !== '' ? { variant: config.variant } : {}),
        ...(typeof config['os.version'] === 'string' && config['os.version'] !== ''
          ? { 'os.version': config['os.version'] }
          : {}),
      };
    }
  } catch {
    // Not JSON: no platform.
  }
  return undefined;
}
