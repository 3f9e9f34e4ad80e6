import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/**
 * A deliberately small distribution-spec client for the harness's own uploads and checks, independent of the
 * project's registry client so tests never check our code with our code. It answers 401 challenges
 * (distribution-spec "Authentication"; the token flow of https://distribution.github.io/distribution/spec/auth/token/)
 * with Basic credentials or a Bearer token from the challenge's realm, and talks to 127.0.0.1 only.
 */

export interface RegistryEndpoint {
  /** http(s)://127.0.0.1:PORT, possibly a proxy in front of the registry. */
  url: string;
  username?: string;
  password?: string;
}

export type Actions = 'pull' | 'pull,push';

export interface SendOptions {
  method: string;
  /** A path under the endpoint, or an absolute URL (an upload Location). */
  target: string;
  repository?: string;
  actions?: Actions;
  headers?: Record<string, string>;
  body?: Buffer | { length: number; open: () => Readable };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
/**
 * The harness's own TLS registries on 127.0.0.1 (test certificates): the harness seeds and inspects them, it is not
 * what is under test, so it does not verify their certificate. The code under test always does.
 */
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

export class RegistrySession {
  private readonly credentials = new Map<string, string>();

  constructor(readonly endpoint: RegistryEndpoint) {}

  async send(opts: SendOptions): Promise<Reply> {
    const scopeKey = `${opts.repository ?? ''}:${opts.actions ?? 'pull'}`;
    const cached = this.credentials.get(scopeKey);
    const first = await this.exchange(opts, cached);
    if (first.status !== 401) return first;
    const authorization = await this.answerChallenge(first.headers['www-authenticate'], opts);
    if (authorization === undefined || authorization === cached) return first;
    this.credentials.set(scopeKey, authorization);
    return this.exchange(opts, authorization);
  }

  private async answerChallenge(header: string | undefined, opts: SendOptions): Promise<string | undefined> {
    if (header === undefined) return undefined;
    const challenge = parseChallenge(header);
    const basic = this.basic();
    if (challenge.scheme === 'basic') return basic;
    if (challenge.scheme !== 'bearer' || challenge.params.realm === undefined) return undefined;
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service !== undefined) realm.searchParams.set('service', challenge.params.service);
    // Ask for what the operation needs rather than echoing the challenge, which names only `pull` on reads.
    if (opts.repository !== undefined) {
      realm.searchParams.set('scope', `repository:${opts.repository}:${opts.actions ?? 'pull'}`);
    } else if (challenge.params.scope !== undefined) {
      realm.searchParams.set('scope', challenge.params.scope);
    }
    const reply = await exchangeRaw({
      method: 'GET',
      url: realm,
      headers: basic === undefined ? {} : { authorization: basic },
    });
    if (reply.status !== 200) return undefined;
    const json = JSON.parse(reply.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  private basic(): string | undefined {
    const { username, password } = this.endpoint;
    if (username === undefined || password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  private exchange(opts: SendOptions, authorization: string | undefined): Promise<Reply> {
    const url = new URL(opts.target, this.endpoint.url);
    const headers: Record<string, string> = { ...opts.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    return exchangeRaw({ method: opts.method, url, headers, ...(opts.body !== undefined && { body: opts.body }) });
  }
}

export async function exchangeRaw(opts: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: SendOptions['body'];
}): Promise<Reply> {
  if (opts.url.hostname !== '127.0.0.1') {
    throw new Error(`harness: refusing to contact ${opts.url.host}; only 127.0.0.1 is allowed`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(opts);
    } catch (err) {
      // A kept-alive socket the server has closed (e.g. across restart()) fails on reuse: retry once on a new one.
      if (attempt === 1 && (err as { reusedSocket?: boolean }).reusedSocket) continue;
      throw err;
    }
  }
}

function once(opts: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: SendOptions['body'];
}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers };
    const body = opts.body;
    // distribution wants Content-Length on uploads, and never together with chunked encoding.
    headers['content-length'] = String(body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.length);
    const send = opts.url.protocol === 'https:' ? httpsRequest : request;
    const via = opts.url.protocol === 'https:' ? httpsAgent : agent;
    const req = send(opts.url, { method: opts.method, headers, agent: via }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      const stream = body.open();
      stream.on('error', (err) => req.destroy(err));
      stream.pipe(req);
    }
  });
}

/** RFC 7235 challenge: `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)=(?:"([^"]*)"|([^,\s]*))/g;
  for (const m of header.slice(space + 1).matchAll(re)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme, params };
}
