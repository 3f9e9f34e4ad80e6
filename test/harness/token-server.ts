import { execFile } from 'node:child_process';
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  randomBytes,
  sign,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A Docker-style token server (https://distribution.github.io/distribution/spec/auth/token/) for
 * distribution's `auth.token` mode: it checks HTTP Basic credentials (or the OAuth2 password grant) and answers
 * an RS256 JWT granting the requested repository actions.
 */

export interface TokenServerOptions {
  /** The registry's `auth.token.service`; becomes the JWT `aud`. */
  service: string;
  /** The registry's `auth.token.issuer`; becomes the JWT `iss`. */
  issuer: string;
  users: Record<string, string>;
  /** How long the registry accepts a token (300 s by default); answered as `expires_in`. */
  expiresInSeconds?: number;
  /** Requests without credentials get a token reduced to `pull` actions instead of a 401. */
  anonymousPull?: boolean;
  /**
   * Token servers that limit scopes per request: `grantAtMost` issues a token for the first N scopes requested (it
   * grants part of what was asked), `refuseAbove` answers 400 to more than N. @default every requested scope is granted
   */
  multiScope?: { grantAtMost?: number; refuseAbove?: number };
}

export interface TokenRequest {
  method: string;
  /** The Authorization scheme presented (`Basic`), or `password-grant` for the OAuth2 form; never the value. */
  authorization?: string;
  scope: string[];
  service?: string;
  /** The user the request authenticated as; unset when anonymous or rejected. */
  user?: string;
  status: number;
}

export interface TokenServer {
  /** The realm to configure in the registry, e.g. http://127.0.0.1:PORT/token. */
  url: string;
  /** PEM certificate for the registry's `rootcertbundle`. */
  certPath: string;
  /** The libtrust key ID the tokens carry in their `kid` header. */
  keyId: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

const execFileAsync = promisify(execFile);
const REGISTRY_LEEWAY_SECONDS = 60;

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-token-'));
  keyDirs.add(dir);
  installExitHook();
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  try {
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=test-token',
      '-days',
      '2',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]);
  } catch (err) {
    await removeKeyDir(dir);
    throw new Error(`startTokenServer: openssl could not create the signing certificate: ${String(err)}`);
  }
  const privateKey = createPrivateKey(await readFile(keyPath));
  const certificate = new X509Certificate(await readFile(certPath));
  const keyId = libtrustKeyId(certificate.publicKey.export({ type: 'spki', format: 'der' }));
  const expiresIn = opts.expiresInSeconds ?? 300;
  const requests: TokenRequest[] = [];

  const issue = (res: ServerResponse, record: TokenRequest, access: AccessEntry[]): void => {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(privateKey, keyId, {
      iss: opts.issuer,
      // distribution 2.8 unmarshals `aud` into a string: an array (allowed by RFC 7519) fails verification.
      aud: opts.service,
      sub: record.user ?? '',
      // A little slack so a token is valid at once even when the registry's clock reads the previous second.
      nbf: now - 5,
      iat: now,
      // distribution 2.8 accepts a token until 60 s past `exp` (token.Leeway): stating `exp` that much early makes
      // the registry's effective lifetime equal `expires_in`, so expiry tests need not wait an extra minute.
      exp: now + expiresIn - REGISTRY_LEEWAY_SECONDS,
      jti: randomBytes(12).toString('hex'),
      access,
    });
    send(res, record, 200, {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date(now * 1000).toISOString(),
    });
  };

  const send = (res: ServerResponse, record: TokenRequest, status: number, body: object): void => {
    record.status = status;
    requests.push(record);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 401) headers['www-authenticate'] = 'Basic realm="test-token"';
    res.writeHead(status, headers).end(JSON.stringify(body));
  };

  const authorize = (
    res: ServerResponse,
    record: TokenRequest,
    credentials: { user: string; password: string } | undefined,
  ): void => {
    let requested = record.scope.map(parseScope).filter((s): s is AccessEntry => s !== undefined);
    const { grantAtMost, refuseAbove } = opts.multiScope ?? {};
    if (refuseAbove !== undefined && requested.length > refuseAbove) {
      send(res, record, 400, {
        errors: [{ code: 'UNSUPPORTED', message: `at most ${refuseAbove} scopes per request` }],
      });
      return;
    }
    if (grantAtMost !== undefined) requested = requested.slice(0, grantAtMost);
    if (credentials === undefined) {
      if (!opts.anonymousPull) {
        send(res, record, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
        return;
      }
      const pullOnly = requested.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') }));
      issue(
        res,
        record,
        pullOnly.filter((a) => a.actions.length > 0),
      );
      return;
    }
    const expected = opts.users[credentials.user];
    if (expected === undefined || !sameSecret(expected, credentials.password)) {
      send(res, record, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
      return;
    }
    record.user = credentials.user;
    issue(res, record, requested);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'GET') {
      const header = req.headers.authorization;
      const record: TokenRequest = {
        method: 'GET',
        scope: url.searchParams.getAll('scope').flatMap(splitScopes),
        status: 0,
      };
      const service = url.searchParams.get('service');
      if (service !== null) record.service = service;
      if (header !== undefined) record.authorization = header.split(' ')[0];
      const credentials = header === undefined ? undefined : parseBasic(header);
      if (header !== undefined && credentials === undefined) {
        send(res, record, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'unsupported authorization' }] });
        return;
      }
      authorize(res, record, credentials);
      return;
    }
    if (req.method === 'POST') {
      // OAuth2 password grant (https://distribution.github.io/distribution/spec/auth/oauth/).
      readBody(req).then(
        (raw) => {
          const form = new URLSearchParams(raw.toString('utf8'));
          const record: TokenRequest = {
            method: 'POST',
            authorization: 'password-grant',
            scope: form.getAll('scope').flatMap(splitScopes),
            status: 0,
          };
          const service = form.get('service');
          if (service !== null) record.service = service;
          if (form.get('grant_type') !== 'password') {
            send(res, record, 400, { error: 'unsupported_grant_type' });
            return;
          }
          authorize(res, record, { user: form.get('username') ?? '', password: form.get('password') ?? '' });
        },
        () => res.destroy(),
      );
      return;
    }
    res.writeHead(405, { allow: 'GET, POST' }).end();
  });

  // A forgotten token server must not keep the test process alive, nor its idle keep-alive connections.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('token server has no TCP address'));
      else resolve(address.port);
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/token`,
    certPath,
    keyId,
    requests,
    stop() {
      stopping ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await removeKeyDir(dir);
      })();
      return stopping;
    },
  };
}

/** Directories holding a private key, removed on stop() or, for servers never stopped, when the process exits. */
const keyDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dir of keyDirs) rmSync(dir, { recursive: true, force: true });
  });
}

async function removeKeyDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  keyDirs.delete(dir);
}

/**
 * The key ID libtrust (and so distribution 2.x) derives from a public key: SHA-256 over the DER
 * SubjectPublicKeyInfo, first 240 bits, base32 without padding (48 characters), in 12 groups of 4 joined by ':'.
 * distribution rejects RFC 7638 thumbprints, which is what generic JWT libraries put in `kid`.
 */
export function libtrustKeyId(spkiDer: Buffer): string {
  const encoded = base32(createHash('sha256').update(spkiDer).digest().subarray(0, 30));
  return encoded.match(/.{4}/g)!.join(':');
}

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function signJwt(key: KeyObject, kid: string, claims: object): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${b64url(signature)}`;
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** `repository:NAME:pull,push`. Names hold no ':' but a type may carry a class (`repository(plugin)`): split on both ends. */
function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a.length > 0);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

/** Clients may repeat `scope` or join several scopes with spaces (the OAuth2 form). */
function splitScopes(value: string): string[] {
  return value.split(' ').filter((s) => s.length > 0);
}

function parseBasic(header: string): { user: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 64 * 1024) req.destroy(new Error('token request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
