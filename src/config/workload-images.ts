import { InvalidReferenceError, SwrSyncError } from '../errors.js';
import { parseReference, repositoryProblem, type Reference } from '../oci/reference.js';
import { isRecord } from './parse-text.js';

/**
 * `swr-sync config`: the images a set of Kubernetes objects runs, and image-migrator's images.json for them.
 *
 * Extraction reads the pod spec of every workload kind (`containers` and `initContainers`; `ephemeralContainers`
 * are `kubectl debug` sessions, not part of the workload, and are left out), through `kind: List` and typed lists
 * (`DeploymentList`, whose items carry no `kind` of their own, as the API server sends them).
 *
 * Mapping follows image-migrator's `config` subcommand and rule 8 of its images.json: each image, with Docker Hub's
 * defaults made explicit (`nginx` is `docker.io/library/nginx:latest`), goes to
 * `<registry>/<namespace>/<last path component>` with the same tag. A source without a tag would mean "every tag"
 * in images.json (rule 6), so an image without tag or digest gets `:latest`, the tag the kubelet pulls. A
 * digest-pinned image keeps its digest in the key; the destination then names no digest (images.json destinations
 * are written by tag), and sync copies the manifest by digest, byte for byte, so the digest is the same at the
 * destination (with the source's tag too when the image names both).
 *
 * Nothing here reads files or talks to a cluster: manifests.ts and kube/cluster-workloads.ts supply the objects.
 */

/** Where an object was read: a manifest file and its document number (1-based) and line, or nothing (a cluster). */
export interface ObjectSource {
  readonly file: string;
  readonly document?: number;
  readonly line?: number;
}

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly source?: ObjectSource;
}

export interface ContainerImage {
  /** The image as written in the pod spec. */
  readonly image: string;
  readonly container: string;
  readonly field: 'containers' | 'initContainers';
  readonly workload: WorkloadRef;
}

export interface ExtractedImages {
  readonly images: ContainerImage[];
  /** Workload objects seen (after the namespace filter), including those whose images were invalid. */
  readonly workloads: number;
  /** One message per problem, naming the object and container. */
  readonly problems: string[];
}

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_SPEC_PATHS);

const CONTAINER_FIELDS = ['initContainers', 'containers'] as const;

export interface ExtractOptions {
  /** Where the object was read, for messages. */
  readonly source?: ObjectSource;
  /** The kind of an object that does not say (an item of a typed list from the API server). */
  readonly kind?: string;
  /** Keep only objects in these namespaces. */
  readonly namespaces?: ReadonlySet<string>;
  /** The namespace of an object without `metadata.namespace` (kubectl applies it to the context's namespace). */
  readonly defaultNamespace?: string;
}

/**
 * The container images of one Kubernetes object (a workload, a `List`, a typed list). Objects of other kinds, and
 * values that are not objects, give nothing; a workload kind without a pod spec (a kustomize patch) gives nothing.
 */
export function extractContainerImages(object: unknown, options: ExtractOptions = {}): ExtractedImages {
  const result: { images: ContainerImage[]; workloads: number; problems: string[] } = {
    images: [],
    workloads: 0,
    problems: [],
  };
  collect(object, options, result, 0);
  return result;
}

const LIST_DEPTH_MAX = 8;

function collect(
  object: unknown,
  options: ExtractOptions,
  into: { images: ContainerImage[]; workloads: number; problems: string[] },
  depth: number,
): void {
  if (!isRecord(object)) return;
  const kind = typeof object.kind === 'string' && object.kind !== '' ? object.kind : options.kind;
  if (kind === undefined) return;

  if (kind === 'List' || (kind.endsWith('List') && 'items' in object)) {
    const where = options.source ? `${describeSource(options.source)}: ` : '';
    if (!Array.isArray(object.items)) {
      if (object.items !== null && object.items !== undefined)
        into.problems.push(`${where}${kind}: "items" must be a list`);
      return;
    }
    if (depth >= LIST_DEPTH_MAX) {
      into.problems.push(`${where}${kind}: lists nested more than ${LIST_DEPTH_MAX} deep`);
      return;
    }
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    const itemOptions: ExtractOptions = { ...options, kind: itemKind };
    for (const item of object.items) collect(item, itemOptions, into, depth + 1);
    return;
  }

  const path = POD_SPEC_PATHS[kind];
  if (path === undefined) return;
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : undefined;
  const written = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  const namespace = written ?? options.defaultNamespace;
  if (options.namespaces && !options.namespaces.has(namespace ?? '')) return;

  const workload: WorkloadRef = {
    kind,
    ...(written !== undefined ? { namespace: written } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(options.source ? { source: options.source } : {}),
  };
  into.workloads++;

  let spec: unknown = object;
  for (const key of path) spec = isRecord(spec) ? spec[key] : undefined;
  if (!isRecord(spec)) return;

  for (const field of CONTAINER_FIELDS) {
    const containers = spec[field];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) {
      into.problems.push(`${describeWorkload(workload)}: ${path.join('.')}.${field} must be a list of containers`);
      continue;
    }
    containers.forEach((container, i) => {
      const label =
        isRecord(container) && typeof container.name === 'string' && container.name !== ''
          ? container.name
          : `${field}[${i}]`;
      const where = `${describeWorkload(workload)}, ${field === 'initContainers' ? 'init container' : 'container'} "${label}"`;
      if (!isRecord(container)) {
        into.problems.push(`${where}: must be an object with "name" and "image"`);
        return;
      }
      const image = container.image;
      if (image === undefined || image === null || image === '') {
        into.problems.push(`${where}: has no image`);
        return;
      }
      if (typeof image !== 'string') {
        into.problems.push(
          `${where}: image must be a string (found ${Array.isArray(image) ? 'a list' : typeof image})`,
        );
        return;
      }
      into.images.push({ image, container: label, field, workload });
    });
  }
}

/** `manifests/app.yaml, document 2 (line 14)`. */
export function describeSource(source: ObjectSource): string {
  const document =
    source.document === undefined
      ? ''
      : `, document ${source.document}${source.line === undefined ? '' : ` (line ${source.line})`}`;
  return `${source.file}${document}`;
}

/** `manifests/app.yaml, document 2 (line 14): Deployment shop/web`, or `Deployment shop/web` for a cluster's. */
export function describeWorkload(workload: WorkloadRef): string {
  return workload.source ? `${describeSource(workload.source)}: ${workloadId(workload)}` : workloadId(workload);
}

/** `Deployment shop/web`. */
export function workloadId(workload: WorkloadRef): string {
  const name = workload.name ?? '(no name)';
  return `${workload.kind} ${workload.namespace === undefined ? name : `${workload.namespace}/${name}`}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The target: -t registry/namespace

export interface ImageTarget {
  /** Registry host[:port], lowercase, Docker Hub aliases folded. */
  readonly registry: string;
  /** Namespace (SWR organization), possibly several path components. */
  readonly namespace: string;
}

/**
 * `-t registry/namespace`, as image-migrator's `--repo` (`swr.cn-north-4.myhuaweicloud.com/test`). The registry is
 * a host (it has a '.' or ':', or is localhost: otherwise it would be read as a Docker Hub namespace).
 */
export function parseImageTarget(text: string, flag = '-t'): ImageTarget {
  const bad = (rule: string): SwrSyncError =>
    new SwrSyncError(
      'ERR_INVALID_ARGUMENT',
      `${flag} "${text}": ${rule}, e.g. ${flag} swr.cn-north-4.myhuaweicloud.com/test`,
    );
  const trimmed = text.trim().replace(/\/+$/, '');
  if (trimmed === '') throw bad('is empty: give registry/namespace');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw bad('has a URL scheme: write registry/namespace');
  const slash = trimmed.indexOf('/');
  if (slash < 0) throw bad('names no namespace: write registry/namespace');
  const host = trimmed.slice(0, slash);
  if (!/[.:]/.test(host) && host !== 'localhost') throw bad(`"${host}" is not a registry host[:port]`);
  const namespace = trimmed.slice(slash + 1);
  const problem = repositoryProblem(namespace);
  if (problem) throw bad(`the namespace is invalid: ${problem}`);
  let probe: Reference;
  try {
    probe = parseReference(`${trimmed}/probe`, { defaultTag: false });
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
    throw bad(e.message.replace(/^invalid image reference "[^"]*": /, ''));
  }
  return { registry: probe.registry, namespace };
}

// ---------------------------------------------------------------------------------------------------------------
// -n ns1,ns2

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `-n ns1,ns2`: namespace names (RFC 1123 labels, as Kubernetes requires), duplicates dropped, order kept. */
export function parseNamespaceList(text: string, flag = '-n'): string[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0)
    throw new SwrSyncError('ERR_INVALID_ARGUMENT', `${flag} "${text}" names no namespace: give ns1,ns2,...`);
  for (const name of names) {
    if (name.length > 63 || !NAMESPACE_NAME.test(name)) {
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        `${flag}: "${name}" is not a namespace name: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
      );
    }
  }
  return [...new Set(names)];
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping to images.json

export interface ImageMapping {
  /** The images.json key: the full reference, `registry/repository:tag[@digest]` or `registry/repository@digest`. */
  readonly source: string;
  /** The images.json value: `<registry>/<namespace>/<last component>[:tag]`. */
  readonly destination: string;
  /** The source's tag (also the destination's), unless the image is pinned by digest alone. */
  readonly tag?: string;
  /** The source's digest, when pinned: sync writes the destination under this same digest. */
  readonly digest?: string;
  /** The destination is the source itself (the image is already in the target namespace). */
  readonly unchanged: boolean;
}

/** One image → its images.json entry. Throws `InvalidReferenceError` for an image that breaks the grammar. */
export function mapImage(image: string, target: ImageTarget): ImageMapping {
  const ref = parseImage(image);
  const component = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  const repository = `${target.registry}/${target.namespace}/${component}`;
  const destination = ref.tag === undefined ? repository : `${repository}:${ref.tag}`;
  return {
    source: ref.toString(),
    destination,
    ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
    ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
    unchanged: ref.name === repository,
  };
}

/**
 * A pod's image: always a registry reference. `oci:`/`oci-archive:` name image layouts on swr-sync's command line,
 * but a kubelet reads `oci:1.0` as Docker Hub's `library/oci` at tag 1.0, so that is what it means here.
 */
function parseImage(image: string): Reference {
  if (image.includes('{{'))
    throw new InvalidReferenceError(
      image,
      'it looks like an unrendered Helm template: pass the output of `helm template`',
    );
  if (/^oci(-archive)?:/.test(image)) {
    if (image.includes('/'))
      throw new InvalidReferenceError(image, 'a container image is a registry reference, not an OCI layout');
    try {
      return parseReference(`docker.io/library/${image}`, { defaultTag: 'latest' });
    } catch (e) {
      if (e instanceof InvalidReferenceError)
        throw new InvalidReferenceError(image, e.message.replace(/^invalid image reference "[^"]*": /, ''));
      throw e;
    }
  }
  return parseReference(image, { defaultTag: 'latest' });
}

export interface ImagesConfigEntry extends ImageMapping {
  /** Every container that runs this image, in the order seen. */
  readonly usedBy: readonly ContainerImage[];
}

export interface ImagesConfig {
  /** The images.json object: keys sorted, one entry per distinct source. */
  readonly images: Readonly<Record<string, string>>;
  /** The entries written, sorted by source. */
  readonly entries: readonly ImagesConfigEntry[];
  /** Images already in the target namespace: left out (they would be copied onto themselves). */
  readonly unchanged: readonly ImagesConfigEntry[];
  /** Image strings that are not references, one message each naming the object and container. */
  readonly invalid: readonly string[];
  /** Destinations two sources would write: sync refuses such a file until one destination is edited. */
  readonly conflicts: readonly string[];
}

/**
 * The images.json for `images`: duplicates merged (the same image written differently, `nginx` and
 * `docker.io/library/nginx:latest`, is one entry), images already at their destination left out, and every
 * invalid image and conflicting destination reported.
 */
export function buildImagesConfig(images: readonly ContainerImage[], target: ImageTarget): ImagesConfig {
  const bySource = new Map<string, { mapping: ImageMapping; usedBy: ContainerImage[] }>();
  const invalid: string[] = [];
  for (const image of images) {
    let mapping: ImageMapping;
    try {
      mapping = mapImage(image.image, target);
    } catch (e) {
      if (!(e instanceof InvalidReferenceError)) throw e;
      const what = image.field === 'initContainers' ? 'init container' : 'container';
      invalid.push(`${describeWorkload(image.workload)}, ${what} "${image.container}": ${e.message}`);
      continue;
    }
    const seen = bySource.get(mapping.source);
    if (seen) seen.usedBy.push(image);
    else bySource.set(mapping.source, { mapping, usedBy: [image] });
  }

  const all = [...bySource.values()]
    .map(({ mapping, usedBy }): ImagesConfigEntry => ({ ...mapping, usedBy }))
    .sort((a, b) => compare(a.source, b.source));
  const entries = all.filter((e) => !e.unchanged);
  const unchanged = all.filter((e) => e.unchanged);

  // What a destination writes: its tag, or for a digest-only source the digest itself (two digests of one
  // repository do not collide).
  const writers = new Map<string, ImagesConfigEntry[]>();
  for (const entry of entries) {
    const address = entry.tag === undefined ? `${entry.destination}@${entry.digest}` : entry.destination;
    writers.set(address, [...(writers.get(address) ?? []), entry]);
  }
  const conflicts: string[] = [];
  for (const [address, sources] of [...writers.entries()].sort(([a], [b]) => compare(a, b))) {
    if (sources.length < 2) continue;
    const list = sources.map((s) => `${s.source} (${usedByText(s.usedBy)})`).join(', ');
    conflicts.push(
      `${address} would be written by ${sources.length} sources: ${list}; edit their destinations in images.json before running sync`,
    );
  }

  const map: Record<string, string> = {};
  for (const entry of entries) map[entry.source] = entry.destination;
  return { images: map, entries, unchanged, invalid, conflicts };
}

const USED_BY_SHOWN = 3;

function usedByText(usedBy: readonly ContainerImage[]): string {
  const names = [...new Set(usedBy.map((u) => workloadId(u.workload)))];
  const shown = names.slice(0, USED_BY_SHOWN).join(', ');
  return names.length > USED_BY_SHOWN ? `${shown} and ${names.length - USED_BY_SHOWN} more` : shown;
}

/** Code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** images.json text: two-space indent, keys in the order given (sorted), trailing newline. */
export function serializeImagesConfig(images: Readonly<Record<string, string>>): string {
  return `${JSON.stringify(images, null, 2)}\n`;
}
