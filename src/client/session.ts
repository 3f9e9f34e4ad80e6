import type { Dispatcher } from 'undici';
import type { CredentialSource } from '../config/credentials.js';
import { abortReasonText, SwrSyncError } from '../errors.js';
import { BUDGETS } from '../oci/budgets.js';
import { Authenticator } from './auth.js';
import { parseChallenge } from './challenge.js';
import { openEndpoint, type Endpoint } from './endpoint.js';
import {
  describeTarget,
  errorDetail,
  header,
  looksLikePlainHttp,
  networkCause,
  type Exchange,
  type RegistryResponse,
  type RequestEvent,
} from './exchange.js';
import { isQuotaRequest, type RegistryLimiter } from './rate-limit.js';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  sleep,
  type RetryPolicy,
} from './retry.js';
import type { Transport } from './transport.js';

/** What the session takes from `RegistryClientOptions`. */
export interface SessionOptions {
  readonly credentials?: CredentialSource | undefined;
  readonly insecure?: ((registry: string) => boolean) | undefined;
  readonly userAgent?: string | undefined;
  readonly onRequest?: ((event: RequestEvent) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Whether an exchange moves blob bytes: a blob read (and where it redirects) or a streamed upload body. Those go over
 * HTTP/1.1, one connection each (see `Transport`).
 */
function isBulk(op: Exchange): boolean {
  return typeof op.body === 'function' || (op.method === 'GET' && /\/blobs\/(?!uploads\/)/.test(op.target));
}

/**
 * Sends one exchange to a registry and returns the answer the caller expected: finds the endpoint (scheme, API
 * host, challenge), authenticates, paces under the limiter, retries transient failures, follows redirects (without
 * credentials off the registry's origin), and turns every other answer into a typed error.
 */
export class RegistrySession {
  /** Requests sent per registry host (token requests count under the registry they serve). */
  readonly requestCounts = new Map<string, number>();
  readonly auth: Authenticator;
  readonly userAgent: string;
  readonly signal: AbortSignal | undefined;
  private readonly endpoints = new Map<string, Promise<Endpoint>>();

  constructor(
    private readonly options: SessionOptions,
    readonly transport: Transport,
    readonly limiter: RegistryLimiter,
    readonly retry: RetryPolicy,
  ) {
    this.userAgent = options.userAgent ?? 'swr-sync';
    this.signal = options.signal;
    this.auth = new Authenticator(this, options.credentials);
  }

  /** The endpoint of `registry`, opened once (the first repository's credentials say whether it is insecure). */
  endpoint(registry: string, repository: string): Promise<Endpoint> {
    let endpoint = this.endpoints.get(registry);
    if (!endpoint) {
      endpoint = this.openEndpoint(registry, repository);
      this.endpoints.set(registry, endpoint);
      endpoint.catch(() => this.endpoints.get(registry) === endpoint && this.endpoints.delete(registry));
    }
    return endpoint;
  }

  private async openEndpoint(registry: string, repository: string): Promise<Endpoint> {
    const access = await this.auth.access(registry, repository);
    return openEndpoint(this, registry, access?.insecure === true || this.options.insecure?.(registry) === true);
  }

  /** Counts a request and reports it to `onRequest`. */
  count(registry: string, method: string, target: URL, status: number | undefined): void {
    this.requestCounts.set(registry, (this.requestCounts.get(registry) ?? 0) + 1);
    this.options.onRequest?.({ registry, method, path: target.pathname + target.search, status });
  }

  /** Sends `op`; resolves with a response whose status `op.expect` lists, its body unread. */
  async exchange(op: Exchange): Promise<RegistryResponse> {
    const endpoint = await this.endpoint(op.registry, op.repository);
    const replayable = !(typeof op.body === 'function');
    let discovered: (() => void) | undefined;
    while (!endpoint.discovered) {
      if (!endpoint.discovery) {
        endpoint.discovery = new Promise<void>((resolve) => (discovered = resolve));
        break;
      }
      await endpoint.discovery;
    }
    // The first answer from the registry lets the waiting requests go; so does a failure to get one (the gate saves
    // requests, it must not make requests that fail wait for each other).
    const endDiscovery = (): void => {
      if (!discovered) return;
      endpoint.discovered = true;
      endpoint.discovery = undefined;
      discovered();
      discovered = undefined;
    };
    try {
      return await this.send(op, endpoint, replayable, endDiscovery);
    } finally {
      endDiscovery();
    }
  }

  private async send(
    op: Exchange,
    endpoint: Endpoint,
    replayable: boolean,
    endDiscovery: () => void,
  ): Promise<RegistryResponse> {
    let attempt = 0;
    // One retry for learning the challenge (a request sent without credentials) and one for a refused token (expired,
    // or a token batched for several repositories that the server granted only in part).
    let challengeRetried = false;
    let tokenRetried = false;
    let redirects = 0;
    let url: URL | undefined;
    let crossOrigin = false;
    for (;;) {
      const origin = `${endpoint.scheme}://${endpoint.host}`;
      const target = url ?? new URL(op.target, origin);
      crossOrigin = target.origin !== new URL(origin).origin;
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...op.headers };
      let usedToken: string | undefined;
      if (!crossOrigin) {
        const auth = await this.auth.authorization(endpoint, op);
        if (auth) {
          headers.authorization = auth.header;
          usedToken = auth.tokenKey;
        }
      }
      // Requests that leave the registry's origin (redirected blob reads) are limited under the host they go to.
      await this.limiter.beforeRequest(
        crossOrigin ? target.host : op.registry,
        isQuotaRequest(op.method, target.pathname),
        this.signal,
      );
      let res: Dispatcher.ResponseData;
      try {
        res = await this.transport.send(target, {
          method: op.method,
          headers,
          body: op.body === undefined ? undefined : typeof op.body === 'function' ? op.body() : op.body,
          insecure: endpoint.insecure,
          bulk: isBulk(op),
          signal: this.signal,
        });
      } catch (error) {
        this.count(op.registry, op.method, target, undefined);
        endDiscovery();
        if (this.signal?.aborted) {
          throw new SwrSyncError(
            'ERR_ABORTED',
            `${op.method} ${describeTarget(op, target)} aborted: ${abortReasonText(this.signal.reason)}`,
            { registry: op.registry, repository: op.repository },
          );
        }
        if (replayable && attempt < this.retry.retries && isRetryableNetworkError(error)) {
          this.retry.onRetry?.();
          await sleep(backoffDelay(this.retry, attempt++), this.signal);
          continue;
        }
        throw new SwrSyncError(
          'ERR_REGISTRY_UNREACHABLE',
          `${op.method} ${describeTarget(op, target)}: registry ${op.registry} unreachable: ${networkCause(error)}${target.protocol === 'https:' && looksLikePlainHttp(error) ? `: ${op.registry} looks like plain HTTP; set insecure: true in auth.json for ${op.registry}` : ''}`,
          { registry: op.registry, repository: op.repository, cause: error, retryable: isRetryableNetworkError(error) },
        );
      }
      const status = res.statusCode;
      this.count(op.registry, op.method, target, status);
      const challenge = status === 401 && !crossOrigin ? parseChallenge(res.headers['www-authenticate']) : undefined;
      if (!crossOrigin) {
        if (challenge) endpoint.challenge = challenge;
        endDiscovery();
      }
      const quotaWait = crossOrigin ? undefined : this.limiter.afterResponse(op.registry, status, res.headers);
      const response: RegistryResponse = { status, headers: res.headers, body: res.body, url: target };

      if (status === 401 && !crossOrigin) {
        await res.body.dump();
        if (usedToken) {
          this.auth.refused(usedToken);
        }
        const mayRetry = usedToken ? !tokenRetried : !challengeRetried;
        if (mayRetry && challenge && replayable) {
          if (usedToken) tokenRetried = true;
          else challengeRetried = true;
          continue;
        }
        throw await this.unauthorized(op, 401, !replayable && !challengeRetried && !tokenRetried);
      }
      if (status === 403 && !op.expect.includes(403)) {
        // The registry's reason matters here: some answer 403 to an overwrite of an immutable tag, not to a login.
        throw await this.unauthorized(op, 403, false, await errorDetail(response));
      }
      if (op.followRedirects && REDIRECTS.has(status)) {
        const location = header(res.headers, 'location');
        await res.body.dump();
        if (!location || ++redirects > BUDGETS.redirects) {
          throw new SwrSyncError(
            'ERR_REGISTRY_RESPONSE',
            `${describeTarget(op, target)}: ${location ? 'too many redirects' : `redirect ${status} without Location`}`,
            { registry: op.registry, repository: op.repository, status },
          );
        }
        url = new URL(location, target);
        continue;
      }
      if (op.expect.includes(status)) return response;
      if (replayable && attempt < this.retry.retries && isRetryableStatus(status)) {
        await res.body.dump();
        const retryAfter = quotaWait ?? parseRetryAfter(header(res.headers, 'retry-after'));
        if (retryAfter === undefined || retryAfter <= this.retry.maxRetryAfterMs) {
          this.retry.onRetry?.();
          await sleep(backoffDelay(this.retry, attempt++, retryAfter), this.signal);
          continue;
        }
      }
      const detail = await errorDetail(response);
      const code =
        status === 404 ? 'ERR_NOT_FOUND' : status === 429 ? 'ERR_TOO_MANY_REQUESTS' : 'ERR_REGISTRY_RESPONSE';
      throw new SwrSyncError(
        code,
        `${op.method} ${describeTarget(op, target)}: expected ${op.expect.join(' or ')}, got ${status}${detail ? ` ${detail}` : ''}`,
        {
          registry: op.registry,
          repository: op.repository,
          status,
          retryable: isRetryableStatus(status),
        },
      );
    }
  }

  private async unauthorized(op: Exchange, status: 401 | 403, retryable: boolean, detail = ''): Promise<SwrSyncError> {
    const access = await this.auth.access(op.registry, op.repository);
    const found = access?.credential
      ? `credentials for ${op.registry} were found (${access.source})`
      : `no credentials are configured for ${op.registry}`;
    const verb = op.access === 'push' ? 'push to' : 'pull from';
    return new SwrSyncError(
      status === 401 ? 'ERR_UNAUTHORIZED' : 'ERR_DENIED',
      `registry ${op.registry} ${status === 401 ? 'refused authentication' : 'denied access'} to ${verb} repository ${op.repository} (${status}${detail ? `: ${detail}` : ''}); ${found}`,
      { registry: op.registry, repository: op.repository, status, retryable },
    );
  }
}
