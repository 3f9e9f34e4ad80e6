import type { CredentialSource, RegistryAccess } from '../config/credentials.js';
import type { Endpoint } from './endpoint.js';
import type { Access, Exchange } from './exchange.js';
import { fetchToken, type Token, type TokenContext } from './token-request.js';

/** Repositories per token request when the run announced them (token.md: several `scope` parameters). */
const TOKEN_BATCH = 8;

/**
 * Who the client is at each registry: the credentials found for a repository (looked up once, matched by exact
 * host), and the `Authorization` header a request carries — Basic, or a Bearer token from the challenge's realm,
 * cached per registry origin, credentials, realm, service and scopes (a registry whose challenge names another
 * registry's realm gets a token of its own, never the other's), and asked for several announced repositories at once.
 * It also knows every secret in use, so errors can be redacted at the client's edge (`redact`).
 */
export class Authenticator {
  private readonly accessCache = new Map<string, Promise<RegistryAccess | undefined>>();
  /** The credential source of each `registry/repository` whose lookup has finished: batching decides without awaiting. */
  private readonly accessSources = new Map<string, string | undefined>();
  private readonly tokens = new Map<string, Promise<Token>>();
  /** Repositories announced for this run, per registry and access, not yet given a token: see `announce`. */
  private readonly upcoming = new Map<string, string[]>();
  /** Token keys whose token was refused by the registry: asked for alone from then on. */
  private readonly unbatched = new Set<string>();
  /** Every password, Basic credential and token in use: no error text leaves the client with one of them. */
  private readonly secrets = new Set<string>();

  constructor(
    private readonly context: TokenContext,
    private readonly credentials: CredentialSource | undefined,
  ) {}

  /** The credentials for `registry/repository`, if any (one lookup per repository per run). */
  access(registry: string, repository: string): Promise<RegistryAccess | undefined> {
    const key = `${registry}/${repository}`;
    let access = this.accessCache.get(key);
    if (!access) {
      access = this.credentials?.lookup(registry, repository) ?? Promise.resolve(undefined);
      this.accessCache.set(key, access);
      access.then(
        (found) => {
          this.accessSources.set(key, found?.source);
          if (found?.credential) {
            const { username, password } = found.credential;
            this.remember(
              password,
              `${username}:${password}`,
              Buffer.from(`${username}:${password}`).toString('base64'),
            );
          }
        },
        () => undefined,
      );
    }
    return access;
  }

  /**
   * Repositories of `registry` this run will visit, in order: a Bearer token is then asked for several at once
   * (token.md allows several `scope` parameters), so N repositories cost about N / TOKEN_BATCH token requests.
   */
  announce(registry: string, repositories: Iterable<string>, access: Access): void {
    const key = `${registry}\n${access}`;
    const list = this.upcoming.get(key) ?? [];
    const known = new Set(list);
    for (const repository of repositories) {
      if (!known.has(repository)) {
        known.add(repository);
        list.push(repository);
        // Looked up now, so a token request can pick its companions without waiting (lookups are cached per host).
        this.access(registry, repository).catch(() => undefined);
      }
    }
    this.upcoming.set(key, list);
  }

  /**
   * `text` with every secret in use replaced by `***`: a registry may echo the Authorization header (or the token it
   * was given) in an error body, which becomes part of a message.
   */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    return out;
  }

  private remember(...values: string[]): void {
    // Longest first, so a Basic credential is replaced whole before the password inside it.
    const all = [...this.secrets, ...values.filter((v) => v.length >= 4)].sort((a, b) => b.length - a.length);
    this.secrets.clear();
    for (const value of all) this.secrets.add(value);
  }

  /** The registry refused the token sent under `tokenKey`: forget it, and ask for that scope alone from now on. */
  refused(tokenKey: string): void {
    this.tokens.delete(tokenKey);
    this.unbatched.add(tokenKey);
  }

  /** The `Authorization` header for `op` under the endpoint's challenge, and the token's cache key when it is one. */
  async authorization(endpoint: Endpoint, op: Exchange): Promise<{ header: string; tokenKey?: string } | undefined> {
    const challenge = endpoint.challenge;
    if (!challenge) return undefined;
    const access = await this.access(op.registry, op.repository);
    if (challenge.scheme === 'basic') {
      if (!access?.credential) return undefined;
      const { username, password } = access.credential;
      return { header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    const scopes = [repositoryScope(op.repository, op.access), ...(op.extraScopes ?? [])].sort();
    // The registry's own origin is part of the key: a token is offered only to the registry it was obtained for.
    const keyOf = (scopeList: readonly string[]): string =>
      [
        `${endpoint.scheme}://${endpoint.host}`,
        access?.source ?? 'anonymous',
        access?.credential?.username ?? '',
        challenge.realm,
        challenge.service,
        scopeList.join(' '),
      ].join('\n');
    const key = keyOf(scopes);
    let token = this.tokens.get(key);
    if (token) {
      const resolved = await token.catch(() => undefined);
      if (!resolved || resolved.expiresAt <= Date.now()) {
        if (this.tokens.get(key) === token) this.tokens.delete(key);
        token = undefined;
      }
    }
    if (!token) {
      // Everything up to `tokens.set` is synchronous, so concurrent requests of this repository, and of the
      // repositories batched with it, find the one fetch under their key.
      // Only a plain repository scope is batched: a mount's extra scope belongs to that one request.
      const companions =
        op.extraScopes?.length || this.unbatched.has(key)
          ? []
          : this.batchCompanions(op, access, (repository) =>
              this.tokens.has(keyOf([repositoryScope(repository, op.access)])),
            );
      if (companions.length === 0) token = fetchToken(this.context, endpoint, challenge, scopes, access, op);
      else {
        // This request's own scope first: a server that grants only part of a batch tends to keep the first ones.
        const batch = fetchToken(
          this.context,
          endpoint,
          challenge,
          [...scopes, ...companions.map((r) => repositoryScope(r, op.access))],
          access,
          op,
        );
        for (const repository of companions) {
          const companionKey = keyOf([repositoryScope(repository, op.access)]);
          this.tokens.set(companionKey, batch);
          batch.catch(() => this.tokens.get(companionKey) === batch && this.tokens.delete(companionKey));
        }
        // A token server that refuses several scopes at once still answers for one.
        token = batch.catch(() => fetchToken(this.context, endpoint, challenge, scopes, access, op));
      }
      this.tokens.set(key, token);
      const settled = token;
      settled.catch(() => this.tokens.get(key) === settled && this.tokens.delete(key));
    }
    const value = (await token).value;
    this.remember(value);
    return { header: `Bearer ${value}`, tokenKey: key };
  }

  /** Up to TOKEN_BATCH - 1 announced repositories to ask a token for along with `op`'s: same credentials, no token yet. */
  private batchCompanions(
    op: Exchange,
    access: RegistryAccess | undefined,
    hasToken: (repository: string) => boolean,
  ): string[] {
    const queue = this.upcoming.get(`${op.registry}\n${op.access}`);
    if (!queue || queue.length === 0) return [];
    const companions: string[] = [];
    const keep: string[] = [];
    while (queue.length > 0 && companions.length < TOKEN_BATCH - 1) {
      const repository = queue.shift()!;
      if (repository === op.repository || hasToken(repository)) continue;
      // Credentials are matched by registry/namespace prefix: only repositories with the same ones share a token.
      // A repository whose lookup has not finished stays in the queue for a later batch (or its own request).
      const key = `${op.registry}/${repository}`;
      if (this.accessSources.has(key) && this.accessSources.get(key) === access?.source) companions.push(repository);
      else keep.push(repository);
    }
    queue.unshift(...keep);
    return companions;
  }
}

/** The token scope for one repository (distribution token-scope.md): pull, or pull and push. */
function repositoryScope(repository: string, access: Access): string {
  return `repository:${repository}:${access === 'push' ? 'pull,push' : 'pull'}`;
}
