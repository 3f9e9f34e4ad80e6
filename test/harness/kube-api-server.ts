import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from './tls.js';

/**
 * A loopback stand-in for a Kubernetes API server's list endpoints, so `swr-sync config` can be tested against the
 * real `@kubernetes/client-node` (no cluster can run here). It answers what kube-apiserver answers for
 * `GET /apis/apps/v1/deployments`, `GET /apis/apps/v1/namespaces/{ns}/deployments` and the same for statefulsets,
 * daemonsets, batch/v1 jobs and cronjobs and v1 pods: a `<Kind>List` whose items carry no kind/apiVersion, chunked
 * by `limit`/`continue` with `remainingItemCount`, and `Status` bodies for 401, 403 and 404. The recorded objects
 * below are trimmed `kubectl get -o json` output of a small cluster.
 *
 * Every request must carry `Authorization: Bearer <token>`; the server records method, path and query (never the
 * header value).
 */

export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorized: boolean;
}

export interface KubeApiServerOptions {
  token: string;
  /** HTTPS with these certificates; plain HTTP without. */
  tls?: TestCertificates;
  /** Largest page the server sends, whatever `limit` asks (a server may send fewer items than asked). */
  maxPage?: number;
  /** Resources (e.g. `cronjobs`) answered with 404, as a server that does not serve them. */
  notServed?: readonly string[];
  /** Resources answered with 403 Forbidden. */
  forbidden?: readonly string[];
  /** Accept connections and never answer. */
  silent?: boolean;
  /** Answer every request 403 with the request's Authorization header quoted in the message (a hostile server). */
  echoAuthorization?: boolean;
}

export interface KubeApiServer {
  url: string;
  requests: KubeRequest[];
  stop(): Promise<void>;
}

interface Resource {
  group: string;
  kind: string;
  plural: string;
}

const RESOURCES: readonly Resource[] = [
  { group: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { group: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { group: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { group: 'batch/v1', kind: 'Job', plural: 'jobs' },
  { group: 'batch/v1', kind: 'CronJob', plural: 'cronjobs' },
  { group: 'v1', kind: 'Pod', plural: 'pods' },
];

export const MIGRATE_DIGEST = 'sha256:4d5f0e2ad2b1c7d2b4f8a36ebfc1f8e0c4ba9d2ce0c2fe4e7f7d5f1e2b0c3a91';
/** Only in an ephemeral container (`kubectl debug`): must not be collected. */
export const DEBUG_IMAGE = 'nicolaka/netshoot:v0.13';

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const requests: KubeRequest[] = [];
  const expected = Buffer.from(`Bearer ${options.token}`);
  const maxPage = options.maxPage ?? 2;
  const objects = recordedObjects();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const presented = Buffer.from(req.headers.authorization ?? '');
    const authorized = presented.length === expected.length && timingSafeEqual(presented, expected);
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorized,
    });
    if (options.silent) return;
    if (options.echoAuthorization)
      return status(res, 403, 'Forbidden', `denied for credentials "${req.headers.authorization ?? ''}"`);
    if (!authorized) return status(res, 401, 'Unauthorized', 'Unauthorized');

    const match = /^\/(?:api\/v1|apis\/(apps|batch)\/v1)(?:\/namespaces\/([a-z0-9-]+))?\/([a-z]+)$/.exec(url.pathname);
    const resource =
      match && RESOURCES.find((r) => r.plural === match[3] && r.group === (match[1] ? `${match[1]}/v1` : 'v1'));
    if (req.method !== 'GET' || !match || !resource || options.notServed?.includes(resource.plural)) {
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const namespace = match[2];
    if (options.forbidden?.includes(resource.plural)) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      const group = resource.group.includes('/') ? `"${resource.group.split('/')[0]}"` : '""';
      return status(
        res,
        403,
        'Forbidden',
        `${resource.plural}${group === '""' ? '' : `.${resource.group.split('/')[0]}`} is forbidden: User "system:serviceaccount:ci:reader" cannot list resource "${resource.plural}" in API group ${group} ${scope}`,
      );
    }

    const all = objects
      .filter((o) => o.kind === resource.kind && (!namespace || o.object.metadata.namespace === namespace))
      .map((o) => o.object);
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const start = url.searchParams.has('continue')
      ? Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64url').toString())
      : 0;
    const size = limit > 0 ? Math.min(limit, maxPage) : all.length;
    const items = all.slice(start, start + size);
    const remaining = all.length - start - items.length;
    const metadata: Record<string, unknown> = { resourceVersion: '48213' };
    if (remaining > 0) {
      metadata.continue = Buffer.from(String(start + items.length)).toString('base64url');
      metadata.remainingItemCount = remaining;
    }
    json(res, 200, { kind: `${resource.kind}List`, apiVersion: resource.group, metadata, items });
  };

  let server: Server;
  if (options.tls) {
    const [cert, key] = await Promise.all([readFile(options.tls.certificate), readFile(options.tls.key)]);
    server = createHttpsServer({ cert, key }, handler);
  } else {
    server = createHttpServer(handler);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'audit-id': '5b0a6f3e-6c1e-4c3c-9a55-0d8f6c7b1e42',
  });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

// ---------------------------------------------------------------------------------------------------------------
// Recorded objects

interface Recorded {
  kind: string;
  object: { metadata: { namespace: string } } & Record<string, unknown>;
}

function meta(namespace: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    namespace,
    uid: `0b6c3e1a-${name.padEnd(4, 'x').slice(0, 4)}-4f5e-9b1d-7c2a8e4f6d10`,
    resourceVersion: '47310',
    generation: 1,
    creationTimestamp: '2024-11-02T08:14:51Z',
    labels: { 'app.kubernetes.io/name': name },
    ...extra,
  };
}

function container(name: string, image: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    image,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent',
    ...extra,
  };
}

function podSpec(containers: unknown[], initContainers?: unknown[]) {
  return {
    ...(initContainers ? { initContainers } : {}),
    containers,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  };
}

function template(name: string, spec: unknown) {
  return { metadata: { creationTimestamp: null, labels: { 'app.kubernetes.io/name': name } }, spec };
}

function recordedObjects(): Recorded[] {
  const webSpec = podSpec(
    [container('web', 'nginx:1.27', { ports: [{ containerPort: 80, protocol: 'TCP' }] })],
    [container('wait-db', 'busybox:1.36', { command: ['sh', '-c', 'until nc -z db 5432; do sleep 1; done'] })],
  );
  const deployment = (namespace: string, name: string, spec: unknown): Recorded => ({
    kind: 'Deployment',
    object: {
      metadata: meta(namespace, name, { annotations: { 'deployment.kubernetes.io/revision': '3' } }),
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: template(name, spec),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
    },
  });
  const pod = (
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
    owner?: { kind: string; name: string },
  ): Recorded => ({
    kind: 'Pod',
    object: {
      metadata: meta(
        namespace,
        name,
        owner
          ? {
              ownerReferences: [
                {
                  apiVersion: 'apps/v1',
                  kind: owner.kind,
                  name: owner.name,
                  uid: '7d1f0c55-2b8e-4a51-8f0e-3c9d2e6b4a17',
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            }
          : {},
      ),
      spec: { ...spec, nodeName: 'node-1', serviceAccountName: 'default' },
      status: { phase: 'Running', hostIP: '192.168.0.11', podIP: '10.0.0.23', qosClass: 'BestEffort' },
    },
  });

  return [
    deployment('shop', 'web', webSpec),
    {
      kind: 'StatefulSet',
      object: {
        metadata: meta('shop', 'db'),
        spec: {
          replicas: 1,
          serviceName: 'db',
          selector: { matchLabels: { 'app.kubernetes.io/name': 'db' } },
          template: template('db', podSpec([container('postgres', 'docker.io/library/postgres:16.4')])),
          podManagementPolicy: 'OrderedReady',
        },
        status: {
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          currentRevision: 'db-6d9f7c8b5',
          updateRevision: 'db-6d9f7c8b5',
        },
      },
    },
    {
      kind: 'DaemonSet',
      object: {
        metadata: meta('ops', 'node-exporter'),
        spec: {
          selector: { matchLabels: { 'app.kubernetes.io/name': 'node-exporter' } },
          template: template(
            'node-exporter',
            podSpec([container('node-exporter', 'quay.io/prometheus/node-exporter:v1.8.2')]),
          ),
        },
        status: { currentNumberScheduled: 3, numberMisscheduled: 0, desiredNumberScheduled: 3, numberReady: 3 },
      },
    },
    {
      kind: 'DaemonSet',
      object: {
        metadata: meta('kube-system', 'kube-proxy'),
        spec: {
          selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
          template: template('kube-proxy', podSpec([container('kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.1')])),
        },
        status: { currentNumberScheduled: 3, numberMisscheduled: 0, desiredNumberScheduled: 3, numberReady: 3 },
      },
    },
    {
      kind: 'Job',
      object: {
        metadata: meta('ops', 'migrate'),
        spec: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 6,
          template: template('migrate', {
            ...podSpec([container('migrate', `ghcr.io/acme/migrate@${MIGRATE_DIGEST}`)]),
            restartPolicy: 'Never',
          }),
        },
        status: { succeeded: 1, startTime: '2024-11-02T08:15:00Z', completionTime: '2024-11-02T08:15:31Z' },
      },
    },
    {
      kind: 'CronJob',
      object: {
        metadata: meta('ops', 'backup'),
        spec: {
          schedule: '0 3 * * *',
          concurrencyPolicy: 'Forbid',
          suspend: false,
          jobTemplate: {
            metadata: { creationTimestamp: null },
            spec: {
              template: template('backup', {
                ...podSpec([container('backup', 'bitnami/kubectl:1.31')]),
                restartPolicy: 'OnFailure',
              }),
            },
          },
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 1,
        },
        status: { lastScheduleTime: '2024-11-03T03:00:00Z' },
      },
    },
    pod('shop', 'web-7c9d8f6b5-2x4lq', webSpec, { kind: 'ReplicaSet', name: 'web-7c9d8f6b5' }),
    pod(
      'shop',
      'web-7c9d8f6b5-9kz7m',
      { ...webSpec, ephemeralContainers: [container('debugger-8xk2p', DEBUG_IMAGE, { targetContainerName: 'web' })] },
      { kind: 'ReplicaSet', name: 'web-7c9d8f6b5' },
    ),
    pod('shop', 'db-0', podSpec([container('postgres', 'docker.io/library/postgres:16.4')]), {
      kind: 'StatefulSet',
      name: 'db',
    }),
    pod(
      'kube-system',
      'coredns-5d78c9869d-hz6vq',
      podSpec([container('coredns', 'registry.k8s.io/coredns/coredns:v1.11.3')]),
      { kind: 'ReplicaSet', name: 'coredns-5d78c9869d' },
    ),
    pod('default', 'debug', podSpec([container('shell', 'busybox')])),
  ];
}
