import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseImagesFile } from '../../src/config/images-file.js';
import { parseManifestText } from '../../src/config/manifests.js';
import {
  buildImagesConfig,
  extractContainerImages,
  mapImage,
  parseImageTarget,
  parseNamespaceList,
  serializeImagesConfig,
  WORKLOAD_KINDS,
  type ContainerImage,
  type ImageTarget,
} from '../../src/config/workload-images.js';
import { ConfigError, InvalidReferenceError, SwrSyncError } from '../../src/errors.js';

const SWR = 'swr.cn-north-4.myhuaweicloud.com';
const TARGET: ImageTarget = { registry: SWR, namespace: 'test' };
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

const podSpec = (images: Record<string, string>, init: Record<string, string> = {}) => ({
  ...(Object.keys(init).length
    ? { initContainers: Object.entries(init).map(([name, image]) => ({ name, image })) }
    : {}),
  containers: Object.entries(images).map(([name, image]) => ({ name, image })),
});

/** A workload of `kind` whose pod spec runs `images`, shaped as in a manifest. */
function workload(
  kind: string,
  name: string,
  images: Record<string, string>,
  options: { namespace?: string; init?: Record<string, string> } = {},
) {
  const spec = podSpec(images, options.init);
  const metadata = { name, ...(options.namespace ? { namespace: options.namespace } : {}) };
  const template = { metadata: { labels: { app: name } }, spec };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata, spec };
    case 'PodTemplate':
      return { apiVersion: 'v1', kind, metadata, template };
    case 'CronJob':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: { schedule: '0 * * * *', jobTemplate: { spec: { template } } },
      };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata, spec: { template } };
    case 'ReplicationController':
      return { apiVersion: 'v1', kind, metadata, spec: { replicas: 1, template } };
    default:
      return { apiVersion: 'apps/v1', kind, metadata, spec: { selector: { matchLabels: { app: name } }, template } };
  }
}

const imagesOf = (object: unknown, options = {}) =>
  extractContainerImages(object, options).images.map((i) => [i.field, i.container, i.image]);

describe('extractContainerImages', () => {
  for (const kind of [
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
    'ReplicationController',
    'Job',
    'CronJob',
    'Pod',
    'PodTemplate',
  ]) {
    it(`reads containers and initContainers of a ${kind}`, () => {
      const object = workload(
        kind,
        'web',
        { app: 'nginx:1.27', side: 'envoyproxy/envoy:v1.31' },
        { namespace: 'shop', init: { migrate: 'busybox' } },
      );
      const found = extractContainerImages(object);
      assert.deepEqual(found.problems, []);
      assert.equal(found.workloads, 1);
      assert.deepEqual(
        found.images.map((i) => [i.field, i.container, i.image]),
        [
          ['initContainers', 'migrate', 'busybox'],
          ['containers', 'app', 'nginx:1.27'],
          ['containers', 'side', 'envoyproxy/envoy:v1.31'],
        ],
      );
      assert.deepEqual(found.images[0]?.workload, { kind, namespace: 'shop', name: 'web' });
    });
  }

  it('covers exactly the workload kinds it documents', () => {
    assert.deepEqual([...WORKLOAD_KINDS].sort(), [
      'CronJob',
      'DaemonSet',
      'Deployment',
      'Job',
      'Pod',
      'PodTemplate',
      'ReplicaSet',
      'ReplicationController',
      'StatefulSet',
    ]);
  });

  it('leaves out ephemeralContainers (kubectl debug sessions, not part of the workload)', () => {
    const pod = workload('Pod', 'p', { app: 'nginx' }) as { spec: Record<string, unknown> };
    pod.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36', targetContainerName: 'app' }];
    assert.deepEqual(imagesOf(pod), [['containers', 'app', 'nginx']]);
  });

  it('reads kind: List, typed lists whose items carry no kind (as the API server sends them), and nested lists', () => {
    const deploymentList = {
      apiVersion: 'apps/v1',
      kind: 'DeploymentList',
      metadata: { resourceVersion: '100' },
      items: [{ metadata: { name: 'a', namespace: 'x' }, spec: { template: { spec: podSpec({ c: 'redis:7' }) } } }],
    };
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        workload('Job', 'j', { c: 'alpine:3.20' }),
        { apiVersion: 'v1', kind: 'List', items: [deploymentList] },
        { kind: 'ConfigMap', metadata: { name: 'cm' }, data: { image: 'not-read' } },
      ],
    };
    const found = extractContainerImages(list);
    assert.deepEqual(
      found.images.map((i) => [i.workload.kind, i.image]),
      [
        ['Job', 'alpine:3.20'],
        ['Deployment', 'redis:7'],
      ],
    );
    assert.equal(found.workloads, 2);
    // An API server list item takes its kind from the caller.
    assert.deepEqual(imagesOf(deploymentList.items[0], { kind: 'Deployment' }), [['containers', 'c', 'redis:7']]);
    assert.deepEqual(imagesOf(deploymentList.items[0]), [], 'without a kind, an object is not a workload');
  });

  it('ignores other kinds, values that are not objects, and workloads without a pod spec (a kustomize patch)', () => {
    for (const value of [
      null,
      undefined,
      'text',
      42,
      [workload('Pod', 'p', { c: 'nginx' })],
      { kind: 'Service', spec: { template: { spec: podSpec({ c: 'x' }) } } },
    ]) {
      assert.deepEqual(extractContainerImages(value).images, []);
    }
    const patch = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } };
    assert.deepEqual(extractContainerImages(patch), { images: [], workloads: 1, problems: [] });
  });

  it('filters by namespace; an object without one is in the default namespace given', () => {
    const objects = [
      workload('Pod', 'a', { c: 'img-a' }, { namespace: 'shop' }),
      workload('Pod', 'b', { c: 'img-b' }, { namespace: 'ops' }),
      workload('Pod', 'c', { c: 'img-c' }),
    ];
    const run = (namespaces: string[]) =>
      objects.flatMap((o) =>
        extractContainerImages(o, { namespaces: new Set(namespaces), defaultNamespace: 'default' }).images.map(
          (i) => i.image,
        ),
      );
    assert.deepEqual(run(['shop']), ['img-a']);
    assert.deepEqual(run(['default', 'ops']), ['img-b', 'img-c']);
  });

  it('reports broken containers naming the file, document, object and container', () => {
    const pod = {
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'shop' },
      spec: {
        initContainers: 'oops',
        containers: [{ name: 'empty', image: '' }, { name: 'number', image: 1.5 }, 'text', { image: 'ok' }],
      },
    };
    const found = extractContainerImages(pod, { source: { file: 'app.yaml', document: 2, line: 14 } });
    assert.deepEqual(found.problems, [
      'app.yaml, document 2 (line 14): Pod shop/p: spec.initContainers must be a list of containers',
      'app.yaml, document 2 (line 14): Pod shop/p, container "empty": has no image',
      'app.yaml, document 2 (line 14): Pod shop/p, container "number": image must be a string (found number)',
      'app.yaml, document 2 (line 14): Pod shop/p, container "containers[2]": must be an object with "name" and "image"',
    ]);
    assert.deepEqual(
      found.images.map((i) => [i.container, i.image]),
      [['containers[3]', 'ok']],
    );
  });
});

describe('mapImage (image-migrator: <registry>/<namespace>/<last component>:<tag>)', () => {
  const cases: Array<[string, string, string]> = [
    ['nginx', 'docker.io/library/nginx:latest', `${SWR}/test/nginx:latest`],
    ['nginx:1.27', 'docker.io/library/nginx:1.27', `${SWR}/test/nginx:1.27`],
    ['docker.io/library/nginx:1.27', 'docker.io/library/nginx:1.27', `${SWR}/test/nginx:1.27`],
    ['index.docker.io/library/nginx:1.27', 'docker.io/library/nginx:1.27', `${SWR}/test/nginx:1.27`],
    ['registry-1.docker.io/bitnami/redis:7.4', 'docker.io/bitnami/redis:7.4', `${SWR}/test/redis:7.4`],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest', `${SWR}/test/redis:latest`],
    ['quay.io/coreos/etcd:v3.5.16', 'quay.io/coreos/etcd:v3.5.16', `${SWR}/test/etcd:v3.5.16`],
    [
      'registry.k8s.io/ingress-nginx/controller:v1.11.2',
      'registry.k8s.io/ingress-nginx/controller:v1.11.2',
      `${SWR}/test/controller:v1.11.2`,
    ],
    ['Harbor.Example.com:8443/team/sub/app:2', 'harbor.example.com:8443/team/sub/app:2', `${SWR}/test/app:2`],
    ['localhost:5000/app', 'localhost:5000/app:latest', `${SWR}/test/app:latest`],
    // A kubelet reads this as Docker Hub's library/oci, not as an OCI layout.
    ['oci:1.0', 'docker.io/library/oci:1.0', `${SWR}/test/oci:1.0`],
  ];
  for (const [image, source, destination] of cases) {
    it(`${image} → ${destination}`, () => {
      const mapping = mapImage(image, TARGET);
      assert.equal(mapping.source, source);
      assert.equal(mapping.destination, destination);
      assert.equal(mapping.digest, undefined);
      assert.equal(mapping.unchanged, false);
    });
  }

  it('keeps a digest in the source; the destination is written under that digest (and the tag, when there is one)', () => {
    assert.deepEqual(mapImage(`ghcr.io/org/tool@${A}`, TARGET), {
      source: `ghcr.io/org/tool@${A}`,
      destination: `${SWR}/test/tool`,
      digest: A,
      unchanged: false,
    });
    assert.deepEqual(mapImage(`nginx:1.27@${A}`, TARGET), {
      source: `docker.io/library/nginx:1.27@${A}`,
      destination: `${SWR}/test/nginx:1.27`,
      tag: '1.27',
      digest: A,
      unchanged: false,
    });
  });

  it('marks an image already in the target namespace as unchanged', () => {
    assert.equal(mapImage(`${SWR}/test/nginx:1.27`, TARGET).unchanged, true);
    assert.equal(mapImage(`${SWR}/other/nginx:1.27`, TARGET).unchanged, false);
  });

  for (const [image, rule] of [
    ['Nginx:1.27', /repository names must be lowercase/],
    ['nginx:', /tag/],
    ['nginx@sha256:abc', /64 lowercase hex/],
    ['oci:/var/lib/layout', /not an OCI layout/],
    ['https://quay.io/x/y', /URL scheme/],
    ['$(IMAGE)', /invalid image reference/],
    ['{{ .Values.image }}', /unrendered Helm template/],
  ] as const) {
    it(`rejects ${image}`, () => {
      assert.throws(
        () => mapImage(image, TARGET),
        (e: unknown) => e instanceof InvalidReferenceError && rule.test(e.message) && e.message.includes(image),
      );
    });
  }
});

describe('parseImageTarget (-t registry/namespace)', () => {
  it('accepts registry/namespace, with a port, a trailing slash, nested namespaces; folds Docker Hub aliases', () => {
    assert.deepEqual(parseImageTarget(`${SWR}/test`), TARGET);
    assert.deepEqual(parseImageTarget(`${SWR}/test/`), TARGET);
    assert.deepEqual(parseImageTarget('127.0.0.1:5000/mirror/team'), {
      registry: '127.0.0.1:5000',
      namespace: 'mirror/team',
    });
    assert.deepEqual(parseImageTarget('localhost/ns'), { registry: 'localhost', namespace: 'ns' });
    assert.deepEqual(parseImageTarget('index.docker.io/myorg'), { registry: 'docker.io', namespace: 'myorg' });
  });
  for (const [text, rule] of [
    ['', /is empty/],
    [SWR, /names no namespace/],
    ['test/nginx', /"test" is not a registry host/],
    [`https://${SWR}/test`, /URL scheme/],
    [`${SWR}/Test`, /lowercase/],
    [`${SWR}/test:v1`, /namespace is invalid/],
    [`${SWR}//test`, /namespace is invalid/],
  ] as const) {
    it(`rejects "${text}" naming -t and the rule`, () => {
      assert.throws(
        () => parseImageTarget(text),
        (e: unknown) =>
          e instanceof SwrSyncError &&
          e.code === 'ERR_INVALID_ARGUMENT' &&
          e.message.startsWith(`-t "${text}"`) &&
          rule.test(e.message),
      );
    });
  }
});

describe('parseNamespaceList (-n ns1,ns2)', () => {
  it('splits, trims and deduplicates, keeping the order', () => {
    assert.deepEqual(parseNamespaceList('default, kube-system,default,,shop-1'), ['default', 'kube-system', 'shop-1']);
  });
  for (const text of ['', ',', 'Default', 'a_b', '-a', `a${'b'.repeat(63)}`]) {
    it(`rejects "${text}"`, () => {
      assert.throws(
        () => parseNamespaceList(text),
        (e: unknown) => e instanceof SwrSyncError && e.isInputError && /^-n/.test(e.message),
      );
    });
  }
});

describe('buildImagesConfig', () => {
  const at = (kind: string, namespace: string, name: string, container: string, image: string): ContainerImage => ({
    image,
    container,
    field: 'containers',
    workload: { kind, namespace, name },
  });

  it('merges duplicates written differently, sorts keys, and is independent of the input order', () => {
    const images = [
      at('Deployment', 'shop', 'web', 'app', 'nginx'),
      at('Pod', 'shop', 'web-1', 'app', 'docker.io/library/nginx:latest'),
      at('DaemonSet', 'ops', 'agent', 'a', 'quay.io/prometheus/node-exporter:v1.8.2'),
      at('Job', 'ops', 'migrate', 'm', 'index.docker.io/library/nginx'),
      at('CronJob', 'ops', 'backup', 'b', 'bitnami/kubectl:1.31'),
    ];
    const config = buildImagesConfig(images, TARGET);
    assert.deepEqual(config.images, {
      'docker.io/bitnami/kubectl:1.31': `${SWR}/test/kubectl:1.31`,
      'docker.io/library/nginx:latest': `${SWR}/test/nginx:latest`,
      'quay.io/prometheus/node-exporter:v1.8.2': `${SWR}/test/node-exporter:v1.8.2`,
    });
    assert.deepEqual(Object.keys(config.images), [...Object.keys(config.images)].sort());
    const nginx = config.entries.find((e) => e.source === 'docker.io/library/nginx:latest');
    assert.deepEqual(
      nginx?.usedBy.map((u) => u.workload.name),
      ['web', 'web-1', 'migrate'],
    );
    const reversed = buildImagesConfig([...images].reverse(), TARGET);
    assert.equal(serializeImagesConfig(reversed.images), serializeImagesConfig(config.images));
    assert.deepEqual(config.invalid, []);
    assert.deepEqual(config.conflicts, []);
  });

  it('leaves out images already in the target namespace', () => {
    const config = buildImagesConfig(
      [at('Pod', 'a', 'p', 'c', `${SWR}/test/app:1`), at('Pod', 'a', 'p', 'd', 'app:1')],
      TARGET,
    );
    assert.deepEqual(config.images, { 'docker.io/library/app:1': `${SWR}/test/app:1` });
    assert.deepEqual(
      config.unchanged.map((e) => e.source),
      [`${SWR}/test/app:1`],
    );
  });

  it('reports destinations that two sources would write, naming both and their workloads', () => {
    const config = buildImagesConfig(
      [
        at('Deployment', 'shop', 'web', 'app', 'nginx:1.27'),
        at('Deployment', 'ops', 'proxy', 'p', 'quay.io/mirror/nginx:1.27'),
        at('Pod', 'ops', 'pinned', 'p', `nginx:1.27@${A}`),
        // Two digests of one repository, each without a tag: written by digest, they do not collide.
        at('Pod', 'ops', 'd1', 'c', `ghcr.io/org/tool@${A}`),
        at('Pod', 'ops', 'd2', 'c', `ghcr.io/org/tool@${B}`),
      ],
      TARGET,
    );
    assert.equal(Object.keys(config.images).length, 5, 'every source is still written');
    assert.equal(config.conflicts.length, 1);
    const [conflict] = config.conflicts;
    assert.match(
      conflict ?? '',
      new RegExp(`^${SWR.replace(/\./g, '\\.')}/test/nginx:1\\.27 would be written by 3 sources`),
    );
    for (const part of [
      'docker.io/library/nginx:1.27 (Deployment shop/web)',
      'quay.io/mirror/nginx:1.27 (Deployment ops/proxy)',
      `docker.io/library/nginx:1.27@${A} (Pod ops/pinned)`,
    ]) {
      assert.ok(conflict?.includes(part), `${conflict} names ${part}`);
    }
  });

  it('reports invalid images naming the object and container, and maps the others', () => {
    const images: ContainerImage[] = [
      {
        image: 'shop/Web:1',
        container: 'app',
        field: 'containers',
        workload: {
          kind: 'Deployment',
          namespace: 'shop',
          name: 'web',
          source: { file: 'm.yaml', document: 3, line: 20 },
        },
      },
      {
        image: 'nginx',
        container: 'init',
        field: 'initContainers',
        workload: { kind: 'Deployment', namespace: 'shop', name: 'web' },
      },
    ];
    const config = buildImagesConfig(images, TARGET);
    assert.deepEqual(config.invalid, [
      'm.yaml, document 3 (line 20): Deployment shop/web, container "app": invalid image reference "shop/Web:1": repository names must be lowercase ("Web")',
    ]);
    assert.deepEqual(Object.keys(config.images), ['docker.io/library/nginx:latest']);
  });

  it('writes a file that sync reads back as the same images (tags, digests, destinations)', () => {
    const config = buildImagesConfig(
      [
        at('Pod', 'a', 'p', 'c', 'nginx:1.27'),
        at('Pod', 'a', 'p', 'd', `ghcr.io/org/tool@${A}`),
        at('Pod', 'a', 'p', 'e', `redis:7@${B}`),
        at('Pod', 'a', 'p', 'f', 'busybox'),
      ],
      TARGET,
    );
    const text = serializeImagesConfig(config.images);
    assert.ok(
      text.endsWith('}\n') && text.includes('\n  "docker.io/library/busybox:latest": '),
      'two-space indent, trailing newline',
    );
    const rules = parseImagesFile(text, 'images.json', { env: {} });
    const byKey = Object.fromEntries(rules.map((r) => [r.key, r]));
    assert.deepEqual(byKey['docker.io/library/nginx:1.27']?.selection, { kind: 'tags', tags: ['1.27'] });
    assert.deepEqual(byKey['docker.io/library/nginx:1.27']?.destinations, [
      { registry: SWR, repository: 'test/nginx', tags: ['1.27'] },
    ]);
    assert.deepEqual(byKey[`ghcr.io/org/tool@${A}`]?.selection, { kind: 'digest', digest: A });
    assert.deepEqual(byKey[`ghcr.io/org/tool@${A}`]?.destinations, [{ registry: SWR, repository: 'test/tool' }]);
    assert.deepEqual(byKey[`docker.io/library/redis:7@${B}`]?.selection, { kind: 'digest', digest: B });
    assert.deepEqual(byKey[`docker.io/library/redis:7@${B}`]?.destinations, [
      { registry: SWR, repository: 'test/redis', tags: ['7'] },
    ]);
    assert.deepEqual(byKey['docker.io/library/busybox:latest']?.selection, { kind: 'tags', tags: ['latest'] });
  });
});

describe('parseManifestText', () => {
  it('reads Helm template output: comments, --- separators, empty documents; numbers documents and lines', () => {
    const text = [
      '---',
      '# Source: app/templates/service.yaml',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      '---',
      '# Source: app/templates/empty.yaml',
      '---',
      '# Source: app/templates/deployment.yaml',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      '',
    ].join('\n');
    const objects = parseManifestText(text, 'out.yaml');
    assert.deepEqual(
      objects.map((o) => [(o.object as { kind: string }).kind, o.source]),
      [
        ['Service', { file: 'out.yaml', document: 1, line: 3 }],
        ['Deployment', { file: 'out.yaml', document: 3, line: 10 }],
      ],
    );
    assert.deepEqual(parseManifestText('', 'empty.yaml'), []);
    assert.deepEqual(parseManifestText('{"kind":"Pod","metadata":{"name":"p"}}', 'pod.json').length, 1);
  });

  it('names the file, document and line of a syntax error without quoting the text', () => {
    const text = 'kind: Pod\n---\nkind: Secret\ndata:\n  token: [s3cr3t-value\n';
    assert.throws(
      () => parseManifestText(text, 'bad.yaml'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.isInputError &&
        e.file === 'bad.yaml' &&
        /^bad\.yaml: document 2: not valid YAML or JSON at line \d+, column \d+/.test(e.message) &&
        !e.message.includes('s3cr3t'),
    );
    assert.throws(
      () => parseManifestText('{{- if .Values.enabled }}\nkind: Pod\n{{- end }}\n', 'tpl.yaml'),
      (e: unknown) =>
        e instanceof ConfigError && /^tpl\.yaml: document 1: .*unrendered Helm or Go template/.test(e.message),
    );
  });
});
