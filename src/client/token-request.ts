import { request, type Dispatcher } from 'undici';
import type { RegistryAccess } from '../config/credentials.js';
import { SwrSyncError } from '../errors.js';
import { BUDGETS, limitExceeded } from '../oci/budgets.js';
import type { Challenge } from './challenge.js';
import type { Endpoint } from './endpoint.js';
import { header, networkCause, readLimited, type Exchange } from './exchange.js';
import type { RegistryLimiter } from './rate-limit.js';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  sleep,
  type RetryPolicy,
} from './retry.js';
import type { Transport } from './transport.js';

/** A Bearer token and when to stop using it. */
export interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/** What a token request needs from the session. */
export interface TokenContext {
  readonly transport: Transport;
  readonly limiter: RegistryLimiter;
  readonly retry: RetryPolicy;
  readonly userAgent: string;
  readonly signal: AbortSignal | undefined;
  count(registry: string, method: string, target: URL, status: number | undefined): void;
}

const TOKEN_MIN_LIFETIME_S = 60;

/**
 * Token request (distribution docs/spec/auth/token.md; OAuth2 refresh-token flow for identity tokens,
 * docs/spec/auth/oauth.md). Credentials go to the realm only over HTTPS, or plain HTTP when the registry itself
 * is configured insecure: a challenge cannot redirect them to an arbitrary cleartext host.
 */
export async function fetchToken(
  context: TokenContext,
  endpoint: Endpoint,
  challenge: Challenge,
  scopes: string[],
  access: RegistryAccess | undefined,
  op: Exchange,
): Promise<Token> {
  const where = { registry: op.registry, repository: op.repository };
  if (!challenge.realm)
    throw new SwrSyncError('ERR_TOKEN', `registry ${op.registry} sent a Bearer challenge without a realm`, where);
  let realm: URL;
  try {
    realm = new URL(challenge.realm);
  } catch (cause) {
    throw new SwrSyncError('ERR_TOKEN', `registry ${op.registry} sent an invalid token realm`, { ...where, cause });
  }
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:')
    throw new SwrSyncError(
      'ERR_TOKEN',
      `registry ${op.registry}: token realm scheme ${realm.protocol} is not http(s)`,
      where,
    );
  const credential = access?.credential;
  const mayUseCredential = realm.protocol === 'https:' || endpoint.insecure;
  const identityToken = credential?.username === '<token>';
  let method: 'GET' | 'POST' = 'GET';
  let body: Buffer | undefined;
  const headers: Record<string, string> = { 'user-agent': context.userAgent };
  const url = new URL(realm);
  if (credential && mayUseCredential && identityToken) {
    method = 'POST';
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: credential.password,
      client_id: 'swr-sync',
    });
    if (challenge.service) form.set('service', challenge.service);
    form.set('scope', scopes.join(' '));
    body = Buffer.from(form.toString());
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else {
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    if (credential && mayUseCredential) {
      headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
  }
  for (let attempt = 0; ; attempt++) {
    // The token server is limited under its own host.
    await context.limiter.beforeRequest(url.host, false, context.signal);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        dispatcher: endpoint.insecure ? context.transport.unverified : context.transport.verified,
        method,
        headers,
        body,
        signal: context.signal,
      });
    } catch (error) {
      context.count(op.registry, method, url, undefined);
      if (attempt < context.retry.retries && isRetryableNetworkError(error)) {
        context.retry.onRetry?.();
        await sleep(backoffDelay(context.retry, attempt), context.signal);
        continue;
      }
      throw new SwrSyncError(
        'ERR_TOKEN',
        `token server ${realm.origin} for registry ${op.registry} unreachable: ${networkCause(error)}`,
        { ...where, cause: error, retryable: true },
      );
    }
    context.count(op.registry, method, url, res.statusCode);
    if (res.statusCode === 200) {
      const text = (
        await readLimited(
          res.body,
          BUDGETS.tokenResponseBytes,
          () =>
            limitExceeded(
              'tokenResponseBytes',
              `token response from ${realm.origin} for registry ${op.registry}`,
              where,
            ),
          () => limitExceeded('documentMs', `token response from ${realm.origin} for registry ${op.registry}`, where),
        )
      ).toString('utf8');
      let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
      try {
        parsed = JSON.parse(text);
      } catch {
        // The parser's message quotes the text, which is the server's: not repeated.
        throw new SwrSyncError(
          'ERR_TOKEN',
          `token server ${realm.origin} for registry ${op.registry} answered with invalid JSON`,
          where,
        );
      }
      if (typeof parsed !== 'object' || parsed === null)
        throw new SwrSyncError(
          'ERR_TOKEN',
          `token server ${realm.origin} for registry ${op.registry} answered with JSON that is not an object`,
          where,
        );
      const value = parsed.token ?? parsed.access_token;
      if (!value)
        throw new SwrSyncError(
          'ERR_TOKEN',
          `token server ${realm.origin} for registry ${op.registry} returned no token`,
          where,
        );
      // RFC 6750 §2.1 b64token: a token that is not one would break the Authorization header (Node quotes an invalid
      // header value in its error message, so it is never sent).
      if (typeof value !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
        throw new SwrSyncError(
          'ERR_TOKEN',
          `token server ${realm.origin} for registry ${op.registry} returned a token that is not a valid Bearer token`,
          where,
        );
      }
      // token.md: expires_in defaults to 60 s; renew 10% early so a long upload does not start with a dying token.
      const lifetime = Math.max(typeof parsed.expires_in === 'number' ? parsed.expires_in : TOKEN_MIN_LIFETIME_S, 1);
      const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
      const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
      return { value, expiresAt: start + lifetime * 900 };
    }
    await res.body.dump();
    if (attempt < context.retry.retries && isRetryableStatus(res.statusCode)) {
      context.retry.onRetry?.();
      await sleep(
        backoffDelay(context.retry, attempt, parseRetryAfter(header(res.headers, 'retry-after'))),
        context.signal,
      );
      continue;
    }
    const found = credential
      ? mayUseCredential
        ? `credentials for ${op.registry} were found (${access!.source})`
        : `credentials for ${op.registry} were withheld: the realm is plain HTTP and the registry is not marked insecure`
      : `no credentials are configured for ${op.registry}`;
    throw new SwrSyncError(
      res.statusCode === 401 || res.statusCode === 403 ? 'ERR_UNAUTHORIZED' : 'ERR_TOKEN',
      `token server ${realm.origin} refused a token for ${scopes.join(' ')} on registry ${op.registry} (${res.statusCode}); ${found}`,
      { ...where, status: res.statusCode, retryable: isRetryableStatus(res.statusCode) },
    );
  }
}
