/**
 * The SWR registry host for a region: `swr.{region}.{cloud}`, where the provider picks `myhuaweicloud.eu` for the
 * eu-west-1xx regions when no cloud is given (swr-facts §6, HWTF getCloudDomain()).
 */
export const DEFAULT_CLOUD = 'myhuaweicloud.com';

export function cloudFor(region: string, cloud?: string): string {
  if (cloud !== undefined) return cloud;
  return region.startsWith('eu-west-1') ? 'myhuaweicloud.eu' : DEFAULT_CLOUD;
}

export function swrLoginServer(region: string, cloud?: string): string {
  return `swr.${region}.${cloudFor(region, cloud)}`;
}
