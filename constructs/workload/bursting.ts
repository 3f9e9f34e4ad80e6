/**
 * CCE → CCI bursting (swr-facts §9.2, huawei-docs/cce-bursting-images-and-image-replacement.txt). CCI 1.0 (the
 * "CCE Cloud Bursting Engine for CCI" add-on) reads `virtual-kubelet.io/burst-to-cci` and
 * `coordinator.cci.io/image-replacement`; CCI 2.0 uses the `bursting.cci.io/` forms of both (§9.3).
 */
import type { IConstruct } from '../lib/cdktf.js';
import { fail, isUnresolved } from '../lib/validation.js';

/** enforce: always CCI; auto: scheduler scores; localPrefer: CCI only when the cluster is short; off: never. */
export type BurstingMode = 'auto' | 'localPrefer' | 'enforce' | 'off';

export type CciVersion = 1 | 2;

const MODES: readonly string[] = ['auto', 'localPrefer', 'enforce', 'off'];

export function burstLabelKey(cci: CciVersion): string {
  return cci === 2 ? 'bursting.cci.io/burst-to-cci' : 'virtual-kubelet.io/burst-to-cci';
}

export function imageReplacementKey(cci: CciVersion): string {
  return cci === 2 ? 'bursting.cci.io/image-replacement' : 'coordinator.cci.io/image-replacement';
}

export function checkBursting(scope: IConstruct, mode: BurstingMode | undefined, cci: CciVersion | undefined): void {
  if (mode !== undefined && !isUnresolved(mode) && !MODES.includes(mode)) {
    fail(scope, 'bursting', mode, "must be 'auto', 'localPrefer', 'enforce' or 'off'");
  }
  if (cci !== undefined && cci !== 1 && cci !== 2) fail(scope, 'cciVersion', cci, 'must be 1 or 2');
}
