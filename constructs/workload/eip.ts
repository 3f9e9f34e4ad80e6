/**
 * Pod EIPs on Cloud Native Network 2.0 / CCE Autopilot / CCI, as `yangtse.io/*` pod annotations (Huawei's
 * CCE Autopilot page on third-party images and EIP annotations, tables 2 and 4). The annotations are read
 * only when a pod is created.
 */
import type { IConstruct } from '../lib/cdktf.js';
import { Annotations } from '../lib/cdktf.js';
import { BANDWIDTH_NAME, GO_DURATION, bandwidthSizeRule } from '../lib/rules.js';
import type { Rule } from '../lib/rules.js';
import { check, fail, isUnresolved } from '../lib/validation.js';

/** Options of a static (sticky) pod EIP. */
export interface StaticEip {
  /** How long the EIP outlives its pod, a Go duration. @default '5m' (the platform's) */
  readonly expireDuration?: string;
  /** Keep the EIP when the StatefulSet is deleted, for a successor of the same name. @default false */
  readonly noCascading?: boolean;
}

/** A public IP per pod, as `yangtse.io/*` pod annotations (Cloud Native Network 2.0, CCE Autopilot, CCI). */
export interface WorkloadEip {
  /** Give each pod a new EIP (`yangtse.io/pod-with-eip`). @default true, unless `eipId` is set */
  readonly podWithEip?: boolean;
  /**
   * Mbit/s (`eip-bandwidth-size`): 1-2000 billed by bandwidth, 1-300 billed by traffic (Huawei's example range; the
   * EIP console shows a region's exact one). @default 5 (the platform's)
   */
  readonly bandwidthSize?: number;
  /** 1-64 letters, digits, '-', '_', '.' (`eip-bandwidth-name`). @default - the pod name */
  readonly bandwidthName?: string;
  /** `eip-charge-mode`. @default - the region's EIP API default */
  readonly chargeMode?: 'bandwidth' | 'traffic';
  /** EIP line type, per region, e.g. '5_bgp', '5_sbgp' (`eip-network-type`). @default '5_bgp' */
  readonly networkType?: string;
  /** Use this shared bandwidth instead of a dedicated one (`eip-bandwidth-id`). @default - a dedicated bandwidth */
  readonly sharedBandwidthId?: string;
  /**
   * Bind this existing EIP instead of creating one (`yangtse.io/eip-id`). One EIP binds to one pod, so the workload
   * must have at most 1 replica. @default - none
   */
  readonly eipId?: string;
  /** Keep the pod's EIP across restarts (`yangtse.io/static-eip`); StatefulSet pods only. @default false */
  readonly static?: boolean | StaticEip;
}

const NETWORK_TYPE: Rule<string> = {
  text: "must be an EIP line type such as '5_bgp' or '5_sbgp'",
  test: (v) => /^[0-9]+_[a-z][a-z0-9-]*$/.test(v),
};

const A = 'yangtse.io/';

/** The `yangtse.io/*` pod annotations for `eip`; `replicas` is the workload's (a number, or a token). */
export function eipAnnotations(
  scope: IConstruct,
  eip: WorkloadEip,
  kind: 'deployment' | 'statefulset',
  replicas: number,
): Record<string, string> {
  const set = (k: keyof WorkloadEip) => eip[k] !== undefined;
  if (eip.eipId !== undefined) {
    // An existing EIP binds to one pod: a second replica would wait for it forever (or fail to start).
    if (!isUnresolved(replicas) && replicas > 1) {
      fail(
        scope,
        'eip.eipId',
        eip.eipId,
        `binds one EIP to one pod, but replicas is ${replicas}: use podWithEip (an EIP per pod) or replicas: 1`,
      );
    }
    if (eip.podWithEip === true)
      fail(scope, 'eip.podWithEip', true, 'must not be true with eip.eipId: the pod binds the existing EIP');
    for (const k of [
      'bandwidthSize',
      'bandwidthName',
      'chargeMode',
      'networkType',
      'sharedBandwidthId',
      'static',
    ] as const) {
      if (set(k))
        fail(scope, `eip.${k}`, eip[k], 'must not be set with eip.eipId: an existing EIP brings its own bandwidth');
    }
    return { [`${A}eip-id`]: eip.eipId };
  }
  const podWithEip = eip.podWithEip ?? true;
  if (!podWithEip) {
    const extra = (Object.keys(eip) as (keyof WorkloadEip)[]).find((k) => k !== 'podWithEip' && set(k));
    if (extra) fail(scope, `eip.${extra}`, eip[extra], 'must not be set when eip.podWithEip is false');
    return { [`${A}pod-with-eip`]: 'false' };
  }
  if (eip.sharedBandwidthId !== undefined) {
    // With a shared bandwidth the only other annotation allowed is the network type.
    for (const k of ['bandwidthSize', 'bandwidthName', 'chargeMode'] as const) {
      if (set(k))
        fail(
          scope,
          `eip.${k}`,
          eip[k],
          'must not be set with eip.sharedBandwidthId: a shared bandwidth has its own size, name and billing',
        );
    }
  }
  check(scope, 'eip.bandwidthSize', eip.bandwidthSize, bandwidthSizeRule(eip.chargeMode));
  if (
    eip.chargeMode === undefined &&
    typeof eip.bandwidthSize === 'number' &&
    !isUnresolved(eip.bandwidthSize) &&
    eip.bandwidthSize > 300
  ) {
    // Without a charge mode the region's EIP API default applies; billed by traffic the ceiling is 300 Mbit/s.
    Annotations.of(scope).addWarning(
      `eip.bandwidthSize ${eip.bandwidthSize} exceeds 300 Mbit/s, the traffic-billed maximum; ` +
        "set eip.chargeMode: 'bandwidth' so the region's default billing mode cannot reject it",
    );
  }
  check(scope, 'eip.bandwidthName', eip.bandwidthName, BANDWIDTH_NAME);
  check(scope, 'eip.networkType', eip.networkType, NETWORK_TYPE);
  if (eip.chargeMode !== undefined && eip.chargeMode !== 'bandwidth' && eip.chargeMode !== 'traffic') {
    fail(scope, 'eip.chargeMode', eip.chargeMode, "must be 'bandwidth' or 'traffic'");
  }

  const out: Record<string, string> = { [`${A}pod-with-eip`]: 'true' };
  if (eip.bandwidthSize !== undefined) out[`${A}eip-bandwidth-size`] = String(eip.bandwidthSize);
  if (eip.networkType !== undefined) out[`${A}eip-network-type`] = eip.networkType;
  if (eip.chargeMode !== undefined) out[`${A}eip-charge-mode`] = eip.chargeMode;
  if (eip.bandwidthName !== undefined) out[`${A}eip-bandwidth-name`] = eip.bandwidthName;
  if (eip.sharedBandwidthId !== undefined) out[`${A}eip-bandwidth-id`] = eip.sharedBandwidthId;

  if (eip.static) {
    // Static EIPs are for StatefulSet pods (or pods without ownerReferences) only.
    if (kind !== 'statefulset')
      fail(scope, 'eip.static', eip.static, "needs kind 'statefulset': only StatefulSet pods keep a static EIP");
    const opts: StaticEip = eip.static === true ? {} : eip.static;
    check(scope, 'eip.static.expireDuration', opts.expireDuration, GO_DURATION);
    out[`${A}static-eip`] = 'true';
    if (opts.expireDuration !== undefined) out[`${A}static-eip-expire-duration`] = opts.expireDuration;
    if (opts.noCascading !== undefined) out[`${A}static-eip-expire-no-cascading`] = String(opts.noCascading);
  }
  return out;
}
