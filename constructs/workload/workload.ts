import { Annotations, Aspects, Construct, DeploymentV1, Lazy, StatefulSetV1, checkFramework } from '../lib/cdktf.js';
import type { DeploymentV1SpecTemplate, IConstruct, KubernetesProvider } from '../lib/cdktf.js';
import { IMAGE_REFERENCE, K8S_LABEL_NAME, K8S_SUBDOMAIN } from '../lib/rules.js';
import { check, fail, isUnresolved } from '../lib/validation.js';
import { ImagePullSecret } from '../image-pull-secret.js';
import { MirroredImage } from '../mirrored-image.js';
import { MirrorSet } from '../mirror-set.js';
import { IMAGE_REPLACEMENT_KEY, burstLabelKey, checkBursting } from './bursting.js';
import type { BurstingMode, CciVersion } from './bursting.js';
import { eipAnnotations } from './eip.js';
import type { WorkloadEip } from './eip.js';
import { checkRules, deriveRules } from './image-replacement.js';
import type { ImageReplacementRule } from './image-replacement.js';

/** A port a container listens on. */
export interface ContainerPort {
  /** Port number, 1-65535. */
  readonly containerPort: number;
  /** An IANA service name for the port. @default - unnamed */
  readonly name?: string;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** Resource requests and limits of a container. */
export interface ContainerResources {
  /** e.g. { cpu: '250m', memory: '512Mi' } (CCI sizes burst pods from these). @default - none */
  readonly requests?: Record<string, string>;
  /** e.g. { cpu: '1', memory: '1Gi' }. @default - none */
  readonly limits?: Record<string, string>;
}

/** One container (or init container) of a `Workload`. */
export interface WorkloadContainer {
  /** A Kubernetes DNS label, unique in the pod. */
  readonly name: string;
  /** An image reference, or a `MirroredImage` (then pulled from the mirror). */
  readonly image: string | MirroredImage;
  /** Which mirrored tag. @default - the MirroredImage's first tag */
  readonly tag?: string;
  /** Pull a MirroredImage by the digest in the lock file. @default true */
  readonly pinned?: boolean;
  /** @default - Kubernetes' (Always for ':latest' and untagged images, else IfNotPresent) */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Replaces the image's entrypoint. @default - the image's */
  readonly command?: string[];
  /** Replaces the image's arguments. @default - the image's */
  readonly args?: string[];
  /** Environment variables (plain values; use a Secret for credentials). @default - none */
  readonly env?: Record<string, string>;
  /** @default - none */
  readonly ports?: ContainerPort[];
  /** @default - none */
  readonly resources?: ContainerResources;
}

/** CCI image-replacement settings of a `Workload` (CCI 1.0 only). */
export interface ImageReplacementProps {
  /** Explicit rules. @default - none */
  readonly rules?: ImageReplacementRule[];
  /**
   * Add rules for this pod's plain-string images whose repositories are mirrored in the stack, so a pod that
   * bursts to CCI pulls from the mirror (beyond what the console offers). @default false
   */
  readonly fromMirroredImages?: boolean;
}

/** Props of a `Workload`. */
export interface WorkloadProps {
  /** Deployment / StatefulSet name. */
  readonly name: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** 'statefulset' is needed for static EIPs. @default 'deployment' */
  readonly kind?: 'deployment' | 'statefulset';
  /** Headless service of a StatefulSet. @default - the workload name */
  readonly serviceName?: string;
  /** @default 1 */
  readonly replicas?: number;
  /** Labels of the workload and its pods. @default { app: name } */
  readonly labels?: Record<string, string>;
  /** Extra pod annotations. @default - none */
  readonly podAnnotations?: Record<string, string>;
  /** At least one. */
  readonly containers: WorkloadContainer[];
  /** Run to completion, in order, before the containers start. @default - none */
  readonly initContainers?: WorkloadContainer[];
  /** Pull secrets: `ImagePullSecret`s of this namespace (they are created first) or secret names. @default - none */
  readonly imagePullSecrets?: (ImagePullSecret | string)[];
  /** A public IP per pod, via `yangtse.io/*` annotations. @default - none */
  readonly eip?: WorkloadEip;
  /** CCE → CCI bursting label. @default - no label (the platform's 'off') */
  readonly bursting?: BurstingMode;
  /**
   * CCI generation: 1 uses the `virtual-kubelet.io/burst-to-cci` label and `coordinator.cci.io/image-replacement`;
   * 2 the `bursting.cci.io/burst-to-cci` label and no image replacement (undocumented for CCI 2.0). @default 1
   */
  readonly cciVersion?: CciVersion;
  /** CCI image-replacement rules. @default - none */
  readonly imageReplacement?: ImageReplacementProps;
  /**
   * Time-zone synchronization, as the console's option: mounts the node's /etc/localtime read-only into every
   * container. A hostPath volume: CCI does not support it, so with `bursting` a synth warning says so. @default false
   */
  readonly timezoneSync?: boolean;
  /** @default false */
  readonly waitForRollout?: boolean;
  /** @default - the stack's default kubernetes provider */
  readonly provider?: KubernetesProvider;
}

const LOCALTIME_VOLUME = 'localtime';

/**
 * A `kubernetes_deployment_v1` (or `kubernetes_stateful_set_v1`) with Huawei Cloud's pod EIP, bursting and
 * image-replacement settings as typed props. It is also a trigger target for `SwrRepository`.
 */
export class Workload extends Construct {
  /** The `kubernetes_deployment_v1` or `kubernetes_stateful_set_v1`, for overrides. */
  readonly resource: DeploymentV1 | StatefulSetV1;
  /** The Deployment / StatefulSet name. */
  readonly workloadName: string;
  /** The namespace. */
  readonly namespace: string;
  /** Deployment or StatefulSet. */
  readonly kind: 'deployment' | 'statefulset';
  /** The CCI generation the bursting label targets. */
  readonly cciVersion: CciVersion;
  private readonly explicitRules: ImageReplacementRule[];
  private readonly deriveFromMirror: boolean;
  private readonly plainImages: string[] = [];
  private derived?: ImageReplacementRule[];

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    checkFramework(this);
    this.kind = props.kind ?? 'deployment';
    if (this.kind !== 'deployment' && this.kind !== 'statefulset')
      fail(this, 'kind', this.kind, "must be 'deployment' or 'statefulset'");
    if (props.name === undefined) fail(this, 'name', props.name, 'is required');
    // StatefulSet pod names become host names, so they must be DNS labels.
    check(this, 'name', props.name, this.kind === 'statefulset' ? K8S_LABEL_NAME : K8S_SUBDOMAIN);
    check(this, 'namespace', props.namespace, K8S_LABEL_NAME);
    check(this, 'serviceName', props.serviceName, K8S_LABEL_NAME);
    if (props.serviceName !== undefined && this.kind !== 'statefulset')
      fail(this, 'serviceName', props.serviceName, "is only for kind 'statefulset'");
    if (
      props.replicas !== undefined &&
      !isUnresolved(props.replicas) &&
      !(Number.isInteger(props.replicas) && props.replicas >= 0)
    ) {
      fail(this, 'replicas', props.replicas, 'must be a whole number of at least 0');
    }
    if (!Array.isArray(props.containers) || props.containers.length === 0)
      fail(this, 'containers', props.containers, 'must hold at least one container');
    checkBursting(this, props.bursting, props.cciVersion);
    this.workloadName = props.name;
    this.namespace = props.namespace ?? 'default';
    this.cciVersion = props.cciVersion ?? 1;
    this.explicitRules = props.imageReplacement?.rules ?? [];
    checkRules(this, 'imageReplacement.rules', this.explicitRules);
    this.deriveFromMirror = props.imageReplacement?.fromMirroredImages ?? false;
    if (this.cciVersion === 2 && (this.explicitRules.length > 0 || this.deriveFromMirror)) {
      fail(
        this,
        'imageReplacement',
        props.imageReplacement,
        'is not available with cciVersion 2: Huawei documents the image-replacement annotation for CCI 1.0 only ' +
          '(coordinator.cci.io/image-replacement); give CCI 2.0 pods images they can pull directly, e.g. a MirroredImage',
      );
    }
    if (props.timezoneSync && props.bursting !== undefined && props.bursting !== 'off') {
      // The console's time-zone option is a hostPath volume; CCI runs pods without nodes and has no hostPath.
      Annotations.of(this).addWarning(
        `timezoneSync mounts the node's /etc/localtime as a hostPath volume, which CCI does not ` +
          `support: pods that burst to CCI (bursting '${props.bursting}') may fail to start there. Set TZ in env instead.`,
      );
    }

    const names = new Set<string>();
    const containers = props.containers.map((c, i) => this.container(c, `containers[${i}]`, names, props.timezoneSync));
    const initContainers = (props.initContainers ?? []).map((c, i) =>
      this.container(c, `initContainers[${i}]`, names, props.timezoneSync),
    );
    const pullSecrets = (props.imagePullSecrets ?? []).map((s, i) => this.pullSecret(s, `imagePullSecrets[${i}]`));

    const labels = props.labels ?? { app: props.name };
    const burst = props.bursting !== undefined ? { [burstLabelKey(this.cciVersion)]: props.bursting } : {};
    const podAnnotations: Record<string, string> = {
      ...(props.eip ? eipAnnotations(this, props.eip, this.kind, props.replicas ?? 1) : {}),
      ...(props.podAnnotations ?? {}),
    };
    // Rules derived from the mirror set depend on images declared anywhere in the stack, so the annotation is
    // resolved at synth; the aspect computes it first so its warnings reach the manifest.
    const annotations = Lazy.anyValue({
      produce: () => {
        const rules = [...this.explicitRules, ...this.derivedRules()];
        return rules.length > 0
          ? { ...podAnnotations, [IMAGE_REPLACEMENT_KEY]: JSON.stringify(rules) }
          : podAnnotations;
      },
    }) as unknown as Record<string, string>;
    if (this.deriveFromMirror)
      Aspects.of(this).add({ visit: (node: IConstruct) => void (node === this && this.derivedRules()) });

    const template: DeploymentV1SpecTemplate = {
      metadata: { labels: { ...labels, ...burst }, annotations },
      spec: {
        container: containers,
        ...(initContainers.length > 0 ? { initContainer: initContainers } : {}),
        ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
        ...(props.timezoneSync ? { volume: [{ name: LOCALTIME_VOLUME, hostPath: { path: '/etc/localtime' } }] } : {}),
      },
    };
    const metadata = { name: props.name, namespace: this.namespace, labels: { ...labels, ...burst } };
    const replicas = String(props.replicas ?? 1);
    const selector = { matchLabels: labels };
    this.resource =
      this.kind === 'statefulset'
        ? new StatefulSetV1(this, 'Resource', {
            metadata,
            spec: { replicas, selector, serviceName: props.serviceName ?? props.name, template },
            waitForRollout: props.waitForRollout ?? false,
            provider: props.provider,
          })
        : new DeploymentV1(this, 'Resource', {
            metadata,
            spec: { replicas, selector, template },
            waitForRollout: props.waitForRollout ?? false,
            provider: props.provider,
          });
  }

  /** For `SwrRepository` triggers: the SWR API's plural workload kind. */
  get workloadKind(): 'deployments' | 'statefulsets' {
    return this.kind === 'statefulset' ? 'statefulsets' : 'deployments';
  }

  /** The image-replacement rules the pod gets: explicit ones, then derived ones. */
  get imageReplacementRules(): ImageReplacementRule[] {
    return [...this.explicitRules, ...this.derivedRules()];
  }

  private derivedRules(): ImageReplacementRule[] {
    if (!this.deriveFromMirror) return [];
    if (this.derived) return this.derived;
    const { rules, warnings } = deriveRules(this.plainImages, MirrorSet.of(this).images, this.explicitRules);
    for (const w of warnings) Annotations.of(this).addWarning(`imageReplacement.fromMirroredImages: ${w}`);
    checkRules(this, 'imageReplacement (derived)', [...this.explicitRules, ...rules]);
    this.derived = rules;
    return rules;
  }

  private container(c: WorkloadContainer, at: string, names: Set<string>, timezoneSync?: boolean) {
    check(this, `${at}.name`, c.name, K8S_LABEL_NAME);
    if (!isUnresolved(c.name)) {
      if (names.has(c.name))
        fail(this, `${at}.name`, c.name, 'must be unique among the containers and init containers');
      names.add(c.name);
    }
    let image: string;
    if (c.image instanceof MirroredImage) {
      const tag = c.tag ?? c.image.tags?.[0];
      if (tag === undefined) fail(this, `${at}.tag`, c.tag, 'is required: the MirroredImage mirrors all tags');
      image = c.pinned === false ? c.image.referenceFor(tag) : c.image.pinnedReferenceFor(tag);
    } else {
      if (c.tag !== undefined || c.pinned !== undefined)
        fail(this, `${at}.tag`, c.tag, 'and pinned apply only to a MirroredImage');
      if (c.image === undefined) fail(this, `${at}.image`, c.image, 'is required');
      check(this, `${at}.image`, c.image, IMAGE_REFERENCE);
      image = c.image;
      this.plainImages.push(image);
    }
    (c.ports ?? []).forEach((p, j) => {
      if (
        !isUnresolved(p.containerPort) &&
        !(Number.isInteger(p.containerPort) && p.containerPort >= 1 && p.containerPort <= 65535)
      ) {
        fail(this, `${at}.ports[${j}].containerPort`, p.containerPort, 'must be a port number from 1 to 65535');
      }
    });
    return {
      name: c.name,
      image,
      imagePullPolicy: c.imagePullPolicy,
      command: c.command,
      args: c.args,
      env: c.env ? Object.entries(c.env).map(([name, value]) => ({ name, value })) : undefined,
      port: c.ports?.map((p) => ({ containerPort: p.containerPort, name: p.name, protocol: p.protocol })),
      resources: c.resources ? { requests: c.resources.requests, limits: c.resources.limits } : undefined,
      volumeMount: timezoneSync ? [{ name: LOCALTIME_VOLUME, mountPath: '/etc/localtime', readOnly: true }] : undefined,
    };
  }

  private pullSecret(s: ImagePullSecret | string, at: string): string {
    if (s instanceof ImagePullSecret) {
      // A pod can only use pull secrets from its own namespace.
      if (!isUnresolved(s.namespace) && !isUnresolved(this.namespace) && s.namespace !== this.namespace) {
        fail(
          this,
          at,
          s.node.path,
          `must be in the workload's namespace "${this.namespace}" (it is in "${s.namespace}")`,
        );
      }
      // The resource attribute (not the literal name) makes Terraform create the secret first.
      return s.resource.metadata.name;
    }
    check(this, at, s, K8S_SUBDOMAIN);
    return s;
  }
}
