/**
 * The SWR registry host for a region: `swr.{region}.{cloud}`. The provider sets an organization's `login_server` to
 * `swr.<resource region>.<cloud>`, where cloud is the provider's `cloud` argument, else `myhuaweicloud.eu` when the
 * provider's own region starts with `eu-west-1`, else `myhuaweicloud.com` (`huaweicloud/provider.go`,
 * `getCloudDomain`; `huaweicloud/services/swr/resource_huaweicloud_swr_organization.go`, read).
 */
import { isUnresolved } from './lib/validation.js';
import type { HuaweicloudProviderConfig } from './huaweicloud/provider.js';

export const DEFAULT_CLOUD = 'myhuaweicloud.com';

/** The cloud domain the provider uses: `cloud` if given, else by the (provider's) region. */
export function cloudFor(region: string, cloud?: string): string {
  if (cloud !== undefined) return cloud;
  return region.startsWith('eu-west-1') ? 'myhuaweicloud.eu' : DEFAULT_CLOUD;
}

/** `swr.{region}.{cloud}`. */
export function swrLoginServer(region: string, cloud?: string): string {
  return `swr.${region}.${cloudFor(region, cloud)}`;
}

/**
 * The login server as the provider will compute it, when that is known at synth: `cloud` given here wins, then the
 * provider's `cloud`, then the provider's region decides (as `getCloudDomain` does). `undefined` when the region or
 * the cloud is a token (or comes from the environment at plan time) and no `cloud` pins it.
 */
export function knownLoginServer(
  region: string | undefined,
  cloud: string | undefined,
  provider: HuaweicloudProviderConfig | undefined,
): string | undefined {
  const resourceRegion = region ?? provider?.region;
  if (resourceRegion === undefined || isUnresolved(resourceRegion)) return undefined;
  const explicit = cloud ?? provider?.cloud;
  if (explicit !== undefined) return isUnresolved(explicit) ? undefined : `swr.${resourceRegion}.${explicit}`;
  // No cloud anywhere: the provider decides by its own region, which may differ from the resource's. When that comes
  // from the environment (unset here), the resource's region stands in (docs/constructs.md, "SwrOrganization").
  const providerRegion = provider?.region ?? resourceRegion;
  if (isUnresolved(providerRegion)) return undefined;
  return `swr.${resourceRegion}.${cloudFor(providerRegion)}`;
}
