/**
 * CCE → CCI bursting (docs/constructs.md, "Workload"). CCI 1.0 (the "CCE Cloud Bursting Engine for CCI" add-on)
 * reads the `virtual-kubelet.io/burst-to-cci` label and the `coordinator.cci.io/image-replacement` annotation
 * (Huawei's CCE bursting "Images" page). CCI 2.0's pages document the label as `bursting.cci.io/burst-to-cci`, but no
 * Huawei page documents an image-replacement annotation for CCI 2.0, so none is written for it.
 */
import type { IConstruct } from '../lib/cdktf.js';
import { fail, isUnresolved } from '../lib/validation.js';

/** enforce: always CCI; auto: scheduler scores; localPrefer: CCI only when the cluster is short; off: never. */
export type BurstingMode = 'auto' | 'localPrefer' | 'enforce' | 'off';

/** CCI generation: 1 (the bursting add-on with virtual-kubelet) or 2. */
export type CciVersion = 1 | 2;

const MODES: readonly string[] = ['auto', 'localPrefer', 'enforce', 'off'];

export function burstLabelKey(cci: CciVersion): string {
  return cci === 2 ? 'bursting.cci.io/burst-to-cci' : 'virtual-kubelet.io/burst-to-cci';
}

/** The image-replacement annotation: documented for CCI 1.0 only. */
export const IMAGE_REPLACEMENT_KEY = 'coordinator.cci.io/image-replacement';

export function checkBursting(scope: IConstruct, mode: BurstingMode | undefined, cci: CciVersion | undefined): void {
  if (mode !== undefined && !isUnresolved(mode) && !MODES.includes(mode)) {
    fail(scope, 'bursting', mode, "must be 'auto', 'localPrefer', 'enforce' or 'off'");
  }
  if (cci !== undefined && cci !== 1 && cci !== 2) fail(scope, 'cciVersion', cci, 'must be 1 or 2');
}
