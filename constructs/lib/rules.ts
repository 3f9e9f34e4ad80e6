/**
 * Naming and syntax rules as data: a predicate plus the sentence that ends a validation message. Sources are cited
 * per rule.
 */
export interface Rule<T> {
  readonly test: (value: T) => boolean;
  /** Completes "<prop> <value> …", e.g. "must be 1-64 letters". */
  readonly text: string;
}

function rule<T>(text: string, test: (value: T) => boolean): Rule<T> {
  return { text, test };
}

/**
 * SWR separators: `.`, `_`, `-` (and `/` in repositories) may not sit next to each other, except that two `_` in a
 * row are allowed (SWR CreateNamespace / CreateRepo API pages).
 */
function separatorsOk(name: string, separators: RegExp): boolean {
  for (const run of name.match(separators) ?? []) {
    if (run.length > 1 && run !== '__') return false;
  }
  return true;
}

export const ORGANIZATION_NAME = rule<string>(
  "must be 1-64 lowercase letters, digits, '.', '_' or '-', start with a letter, end with a letter or digit, " +
    "with no two separators adjacent except '__' (SWR organization rules)",
  (v) =>
    v.length >= 1 &&
    v.length <= 64 &&
    /^[a-z]([a-z0-9._-]*[a-z0-9])?$/.test(v) &&
    separatorsOk(v, /[._-]+/g),
);

export const REPOSITORY_NAME = rule<string>(
  "must be 1-128 lowercase letters, digits, '.', '/', '_' or '-', start and end with a letter or digit, " +
    "with no two separators adjacent except '__' (SWR repository rules)",
  (v) =>
    v.length >= 1 &&
    v.length <= 128 &&
    /^[a-z0-9]([a-z0-9./_-]*[a-z0-9])?$/.test(v) &&
    separatorsOk(v, /[./_-]+/g),
);

/**
 * Kubernetes object names (Secrets, Deployments: RFC 1123 DNS subdomain) and namespaces, container names and
 * StatefulSet service names (RFC 1123 DNS label): one definition, shared with the CLI.
 */
export { DNS1123_SUBDOMAIN as K8S_SUBDOMAIN, DNS1123_LABEL as K8S_LABEL_NAME } from '../../src/kubernetes/names.js';

/** `yangtse.io/eip-bandwidth-name` (Huawei's CCE Autopilot EIP annotation table). */
export const BANDWIDTH_NAME = rule<string>(
  "must be 1-64 letters, digits, '-', '_' or '.'",
  (v) => /^[A-Za-z0-9._-]{1,64}$/.test(v),
);

/**
 * EIP bandwidth in Mbit/s by billing mode. Huawei's pod-EIP annotation table (CCE Autopilot, `eip-bandwidth-size`)
 * gives 1-2000 billed by bandwidth and 1-300 billed by traffic as its example and sends readers to the EIP console
 * for a region's exact range; with no charge mode the wider range is checked and a warning covers the rest.
 */
export function bandwidthSizeRule(chargeMode?: 'bandwidth' | 'traffic' | string): Rule<number> {
  const max = chargeMode === 'traffic' ? 300 : 2000;
  const how = chargeMode === 'traffic' ? ' (billed by traffic)' : chargeMode === 'bandwidth' ? ' (billed by bandwidth)' : '';
  return rule(`must be a whole number of Mbit/s from 1 to ${max}${how}`, (v) => Number.isInteger(v) && v >= 1 && v <= max);
}

/** `yangtse.io/static-eip-expire-duration` is a Go duration. */
export const GO_DURATION = rule<string>(
  "must be a Go duration such as '5m' or '1h30m'",
  (v) => /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(v),
);

/** Repository sharing deadline: `YYYY-MM-DD` (a real date) or `forever`. */
export const SHARING_DEADLINE = rule<string>("must be a date 'YYYY-MM-DD' or 'forever'", (v) => {
  if (v === 'forever') return true;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
});

// Docker reference grammar (distribution/reference): domain components, optional port, lowercase path components.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
export const IMAGE_NAME_PATTERN = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG_PATTERN = '[\\w][\\w.-]{0,127}';
const DIGEST_PATTERN = 'sha256:[0-9a-f]{64}';

/** An image name without tag or digest, as `repositoryPrefix`/`replaceWith` must be. */
export const IMAGE_NAME = rule<string>(
  "must follow image-name syntax ([registry[:port]/]path with lowercase components) and not end with '/'",
  (v) => new RegExp(`^${IMAGE_NAME_PATTERN}$`).test(v),
);

/**
 * An image-replacement prefix or replacement: CCI takes everything before an image's last '/', which for
 * `localhost:5000/nginx` is a registry host with a port and no path, so that form is allowed besides image names.
 */
export const IMAGE_PREFIX = rule<string>(
  "must be an image-name prefix ([registry[:port]/]path with lowercase components, or a registry host:port alone) and not end with '/'",
  (v) => new RegExp(`^(?:${IMAGE_NAME_PATTERN}|${DOMAIN})$`).test(v),
);

/** A repository reference for the mirror spec: no tag, no digest (tags are a separate list). */
export const REPOSITORY_REFERENCE = rule<string>(
  'must be a repository reference [registry[:port]/]path without tag or digest',
  (v) => new RegExp(`^${IMAGE_NAME_PATTERN}$`).test(v),
);

/** A container image: name with optional tag and digest. */
export const IMAGE_REFERENCE = rule<string>(
  'must be an image reference name[:tag][@sha256:<64 hex>]',
  (v) => new RegExp(`^${IMAGE_NAME_PATTERN}(?::${TAG_PATTERN})?(?:@${DIGEST_PATTERN})?$`).test(v),
);

export const IMAGE_TAG = rule<string>(
  "must be a tag: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
  (v) => new RegExp(`^${TAG_PATTERN}$`).test(v),
);

export const PLATFORM = rule<string>(
  "must be 'os/arch' or 'os/arch/variant', e.g. 'linux/arm64'",
  (v) => /^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_.]+)?$/.test(v),
);
