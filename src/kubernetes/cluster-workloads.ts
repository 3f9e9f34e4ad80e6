import { describeError, SwrSyncError } from '../errors.js';
import type { Kubeconfig } from './kubeconfig.js';

/**
 * The workloads a cluster runs, read through the Kubernetes API with `@kubernetes/client-node`. That library (and its
 * dependencies) is imported here, on first use, so the other swr-sync commands never load it.
 *
 * Lists, cluster-wide or per namespace: apps/v1 Deployments, StatefulSets and DaemonSets, batch/v1 Jobs and CronJobs,
 * and v1 Pods. All pods, not only bare ones: pods of controllers not listed here (a ReplicaSet without a Deployment,
 * an operator's custom resource) run images too, and duplicates are merged afterwards. Lists are read in pages of
 * `PAGE_SIZE` (as kubectl does) so a large cluster never arrives in one response.
 *
 * Errors name the server, the context and the cluster (and the user for 401), never a credential: the library's own
 * messages are not passed on except for connection-level reasons, and every message is checked for the user's secret
 * values before it leaves.
 */

export interface ClusterListOptions {
  readonly kubeconfig: Kubeconfig;
  /** Namespaces to read; all namespaces when absent. */
  readonly namespaces?: readonly string[];
  /** Limit for each request (connect, answer and body). */
  readonly requestTimeoutMs: number;
  /** Items per page. @default 500 */
  readonly pageSize?: number;
  /** Called with each object and its kind (list items carry no `kind` of their own). */
  readonly visit: (kind: string, object: unknown) => void;
}

export interface ClusterListResult {
  /** Resources the server does not serve (404), e.g. batch/v1 CronJobs before Kubernetes 1.21. */
  readonly warnings: readonly string[];
  /** Objects visited, per kind. */
  readonly counts: Readonly<Record<string, number>>;
}

const PAGE_SIZE = 500;
const PAGES_MAX = 100_000;

interface Page {
  items: unknown[];
  metadata?: { _continue?: string };
}
type Lister = (namespace: string | undefined, params: { limit: number; _continue?: string }) => Promise<Page>;

interface Resource {
  readonly kind: string;
  /** `apps/v1 deployments`, for messages. */
  readonly name: string;
  readonly list: Lister;
}

export async function listClusterWorkloads(options: ClusterListOptions): Promise<ClusterListResult> {
  const { kubeconfig } = options;
  const about = `the Kubernetes API server ${kubeconfig.server} (context "${kubeconfig.context}", cluster "${kubeconfig.cluster}")`;
  // The kubeconfig's own secrets, and every credential the library actually sent (an exec plugin's or auth
  // provider's token is known only once it is in a request): an API server may echo it in an error.
  const secrets = new Set(kubeconfig.secrets);
  const redact = (text: string): string =>
    [...secrets].sort((a, b) => b.length - a.length).reduce((t, s) => t.split(s).join('***'), text);

  let k8s: typeof import('@kubernetes/client-node');
  try {
    k8s = await import('@kubernetes/client-node');
  } catch (e) {
    throw new SwrSyncError('ERR_CLUSTER_UNREACHABLE', `cannot load @kubernetes/client-node: ${describeError(e)}`, {
      cause: e,
    });
  }

  const timeoutMs = options.requestTimeoutMs;
  // Each request gets its own deadline: the library has no timeout, and an API server behind a firewall that drops
  // packets would otherwise hold the command for minutes.
  class DeadlineKubeConfig extends k8s.KubeConfig {
    override async applySecurityAuthentication(
      context: import('@kubernetes/client-node').RequestContext,
    ): Promise<void> {
      await super.applySecurityAuthentication(context);
      context.setSignal(AbortSignal.timeout(timeoutMs));
      const authorization = Object.entries(context.getHeaders()).find(
        ([name]) => name.toLowerCase() === 'authorization',
      )?.[1];
      if (typeof authorization === 'string' && authorization.length >= 8) {
        secrets.add(authorization);
        const credential = authorization.slice(authorization.indexOf(' ') + 1).trim();
        if (credential.length >= 4) {
          secrets.add(credential);
          // Basic credentials: the decoded user:password, and the password alone.
          if (/^basic$/i.test(authorization.split(' ')[0] ?? '')) {
            const decoded = Buffer.from(credential, 'base64').toString('utf8');
            const password = decoded.slice(decoded.indexOf(':') + 1);
            if (decoded.length >= 4) secrets.add(decoded);
            if (password.length >= 4) secrets.add(password);
          }
        }
      }
    }
  }
  const kc = new DeadlineKubeConfig();
  try {
    kc.loadFromString(JSON.stringify(kubeconfig.document));
    kc.setCurrentContext(kubeconfig.context);
  } catch (e) {
    // loadKubeconfig checked the shape; what is left is the library reading a file it names (token-file).
    throw new SwrSyncError(
      'ERR_INVALID_CONFIG',
      redact(
        `${kubeconfig.files.join(', ')}: context "${kubeconfig.context}", cluster "${kubeconfig.cluster}": ${describeError(e)}`,
      ),
      { cause: e },
    );
  }

  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const resources: Resource[] = [
    {
      kind: 'Deployment',
      name: 'apps/v1 deployments',
      list: (ns, p) =>
        ns ? apps.listNamespacedDeployment({ namespace: ns, ...p }) : apps.listDeploymentForAllNamespaces(p),
    },
    {
      kind: 'StatefulSet',
      name: 'apps/v1 statefulsets',
      list: (ns, p) =>
        ns ? apps.listNamespacedStatefulSet({ namespace: ns, ...p }) : apps.listStatefulSetForAllNamespaces(p),
    },
    {
      kind: 'DaemonSet',
      name: 'apps/v1 daemonsets',
      list: (ns, p) =>
        ns ? apps.listNamespacedDaemonSet({ namespace: ns, ...p }) : apps.listDaemonSetForAllNamespaces(p),
    },
    {
      kind: 'Job',
      name: 'batch/v1 jobs',
      list: (ns, p) => (ns ? batch.listNamespacedJob({ namespace: ns, ...p }) : batch.listJobForAllNamespaces(p)),
    },
    {
      kind: 'CronJob',
      name: 'batch/v1 cronjobs',
      list: (ns, p) =>
        ns ? batch.listNamespacedCronJob({ namespace: ns, ...p }) : batch.listCronJobForAllNamespaces(p),
    },
    {
      kind: 'Pod',
      name: 'v1 pods',
      list: (ns, p) => (ns ? core.listNamespacedPod({ namespace: ns, ...p }) : core.listPodForAllNamespaces(p)),
    },
  ];

  const counts: Record<string, number> = {};
  const missing = new Map<string, string>();
  const pageSize = options.pageSize ?? PAGE_SIZE;

  const describeFailure = (e: unknown, resource: Resource, namespace: string | undefined): SwrSyncError => {
    const what = `listing ${resource.name} ${namespace ? `in namespace "${namespace}"` : 'in all namespaces'}`;
    if (e instanceof k8s.ApiException) {
      const status = e.code;
      const reason = statusMessage(e.body);
      if (status === 401) {
        const user = kubeconfig.user
          ? `the credentials of user "${kubeconfig.user}"`
          : 'anonymous access (the context names no user)';
        return new SwrSyncError(
          'ERR_UNAUTHORIZED',
          redact(`${about} rejected ${user} (HTTP 401 Unauthorized, ${what})`),
          { status },
        );
      }
      if (status === 403)
        return new SwrSyncError(
          'ERR_DENIED',
          redact(`${about} denied ${what} (HTTP 403${reason ? `: ${reason}` : ''})`),
          { status },
        );
      return new SwrSyncError(
        'ERR_CLUSTER_RESPONSE',
        redact(`${about} answered HTTP ${status} ${what}${reason ? `: ${reason}` : ''}`),
        { status },
      );
    }
    const name = (e as { name?: unknown })?.name;
    if (name === 'AbortError' || name === 'TimeoutError') {
      return new SwrSyncError(
        'ERR_CLUSTER_UNREACHABLE',
        `${about} did not answer within ${formatMs(timeoutMs)} (--request-timeout), ${what}`,
        { retryable: true },
      );
    }
    if (name === 'FetchError') {
      return new SwrSyncError('ERR_CLUSTER_UNREACHABLE', redact(`cannot reach ${about}: ${connectionReason(e)}`), {
        cause: e,
        retryable: true,
      });
    }
    return new SwrSyncError('ERR_CLUSTER_RESPONSE', redact(`${about}: ${what} failed: ${describeError(e)}`), {
      cause: e,
    });
  };

  const listResource = async (resource: Resource, namespace: string | undefined): Promise<void> => {
    let next: string | undefined;
    for (let page = 0; page < PAGES_MAX; page++) {
      let result: Page;
      try {
        result = await resource.list(namespace, { limit: pageSize, ...(next ? { _continue: next } : {}) });
      } catch (e) {
        if (e instanceof k8s.ApiException && e.code === 404 && page === 0) {
          // A resource the server does not serve; a namespace that does not exist lists as empty (HTTP 200).
          missing.set(resource.name, `${about} does not serve ${resource.name} (HTTP 404): skipped`);
          return;
        }
        throw describeFailure(e, resource, namespace);
      }
      const items = Array.isArray(result.items) ? result.items : [];
      for (const item of items) options.visit(resource.kind, item);
      counts[resource.kind] = (counts[resource.kind] ?? 0) + items.length;
      next = result.metadata?._continue || undefined;
      if (!next) return;
    }
    throw new SwrSyncError(
      'ERR_CLUSTER_RESPONSE',
      `${about} returned more than ${PAGES_MAX} pages listing ${resource.name}`,
    );
  };

  const scopes: Array<string | undefined> =
    options.namespaces && options.namespaces.length > 0 ? [...options.namespaces] : [undefined];
  for (const namespace of scopes) {
    // The six lists of one namespace at once; namespaces one after another, to stay gentle with the server.
    const results = await Promise.allSettled(
      resources.filter((r) => !missing.has(r.name)).map((r) => listResource(r, namespace)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
  if (missing.size === resources.length) {
    throw new SwrSyncError(
      'ERR_CLUSTER_RESPONSE',
      `${about} answered HTTP 404 for every workload list: is ${kubeconfig.server} the API server's URL?`,
    );
  }
  return { warnings: [...missing.values()], counts };
}

/** The `message` of a Kubernetes `Status` body, shortened. */
function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const message = (value as { message?: unknown } | undefined)?.message;
  if (typeof message !== 'string' || message === '') return undefined;
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

const CONNECTION_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "the server's certificate is self-signed and not trusted: set certificate-authority(-data) on the cluster",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the server's certificate chain is not trusted: set certificate-authority(-data) on the cluster",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the server's certificate is not trusted: set certificate-authority(-data) on the cluster",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the server's certificate is not trusted: set certificate-authority(-data) on the cluster",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the server's certificate does not name this host (tls-server-name can set the expected name)",
  EPROTO: 'TLS handshake failed (is the server plain HTTP?)',
};

/** A connection-level failure in words, with its code; never the library's message, which holds the request URL. */
function connectionReason(e: unknown): string {
  const code = (e as { code?: unknown; errno?: unknown }).code ?? (e as { errno?: unknown }).errno;
  if (typeof code === 'string') return `${CONNECTION_REASONS[code] ?? 'connection failed'} (${code})`;
  return 'connection failed';
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
