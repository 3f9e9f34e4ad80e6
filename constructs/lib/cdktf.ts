/**
 * What the constructs import from their framework (see framework.ts, the one module that loads `cdktf` or `cdktn`)
 * and the four Kubernetes types they emit. With `cdktf` and `@cdktf/provider-kubernetes` installed those are the
 * prebuilt bindings, so `Workload.resource` and `ImagePullSecret.resource` are the classes users know; otherwise
 * (CDK Terrain, or no prebuilt package) they are this library's own minimal bindings in kubernetes.ts, which take
 * the same config and write the same JSON. `CDKTF_SWR_KUBERNETES=builtin` forces the latter.
 *
 * The prebuilt classes are imported from their own modules rather than the package root: the root loads all ~110
 * resources (about 2 s) where a synth needs four.
 */
import { createRequire } from 'node:module';
import type * as Deployment from '@cdktf/provider-kubernetes/lib/deployment-v1/index.js';
import type * as Provider from '@cdktf/provider-kubernetes/lib/provider/index.js';
import type * as Secret from '@cdktf/provider-kubernetes/lib/secret-v1/index.js';
import type * as StatefulSet from '@cdktf/provider-kubernetes/lib/stateful-set-v1/index.js';
import { FRAMEWORK } from './framework.js';

export * from './framework.js';

const PREBUILT = '@cdktf/provider-kubernetes';

function prebuiltUsable(): boolean {
  if (FRAMEWORK !== 'cdktf' || process.env.CDKTF_SWR_KUBERNETES === 'builtin') return false;
  try {
    createRequire(import.meta.url).resolve(`${PREBUILT}/lib/provider/index.js`);
    return true;
  } catch {
    return false;
  }
}

/** Where the Kubernetes classes come from: the prebuilt package, or this library's own bindings. */
export const KUBERNETES_BINDINGS: 'prebuilt' | 'builtin' = prebuiltUsable() ? 'prebuilt' : 'builtin';

interface KubernetesClasses {
  KubernetesProvider: typeof Provider.KubernetesProvider;
  SecretV1: typeof Secret.SecretV1;
  DeploymentV1: typeof Deployment.DeploymentV1;
  StatefulSetV1: typeof StatefulSet.StatefulSetV1;
}

async function load(): Promise<KubernetesClasses> {
  if (KUBERNETES_BINDINGS === 'prebuilt') {
    const [p, s, d, st] = await Promise.all([
      import(`${PREBUILT}/lib/provider/index.js`),
      import(`${PREBUILT}/lib/secret-v1/index.js`),
      import(`${PREBUILT}/lib/deployment-v1/index.js`),
      import(`${PREBUILT}/lib/stateful-set-v1/index.js`),
    ]);
    return { KubernetesProvider: p.KubernetesProvider, SecretV1: s.SecretV1, DeploymentV1: d.DeploymentV1, StatefulSetV1: st.StatefulSetV1 };
  }
  // Same constructor config and JSON; typed as the prebuilt classes, of which they implement what the constructs use.
  return (await import('./kubernetes.js')) as unknown as KubernetesClasses;
}

const k8s = await load();

export const KubernetesProvider = k8s.KubernetesProvider;
/** The Kubernetes provider of `@cdktf/provider-kubernetes`, from the framework in use (cdktf or CDK Terrain). */
export type KubernetesProvider = Provider.KubernetesProvider;
export const SecretV1 = k8s.SecretV1;
export type SecretV1 = Secret.SecretV1;
export const DeploymentV1 = k8s.DeploymentV1;
export type DeploymentV1 = Deployment.DeploymentV1;
export type { DeploymentV1SpecTemplate } from '@cdktf/provider-kubernetes/lib/deployment-v1/index.js';
export const StatefulSetV1 = k8s.StatefulSetV1;
export type StatefulSetV1 = StatefulSet.StatefulSetV1;
