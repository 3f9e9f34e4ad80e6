import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * HEAD requests over node:http keep-alive agents. undici closes the connection after every HEAD (undici#258:
 * it guards against servers that send a body with a HEAD response), so a warm rerun — one HEAD per tag — would
 * open a TCP (and TLS) connection per tag. Registries answer HEAD per RFC 9110 §9.3.2 without a body, so the
 * connection can be reused.
 */
export class HeadAgents {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly httpsUnverified: HttpsAgent;
  private readonly timeoutMs: number;

  constructor(options: { connections: number; timeoutMs: number }) {
    const common = {
      keepAlive: true,
      maxSockets: options.connections,
      maxFreeSockets: options.connections,
      scheduling: 'lifo' as const,
    };
    this.http = new HttpAgent(common);
    this.https = new HttpsAgent(common);
    this.httpsUnverified = new HttpsAgent({ ...common, rejectUnauthorized: false });
    this.timeoutMs = options.timeoutMs;
  }

  /** Sends a HEAD; resolves with the status and headers (there is no body to read). */
  head(
    url: URL,
    options: { headers: Record<string, string>; insecure: boolean; signal?: AbortSignal | undefined },
  ): Promise<HeadResponse> {
    const https = url.protocol === 'https:';
    const agent = https ? (options.insecure ? this.httpsUnverified : this.https) : this.http;
    const send = https ? httpsRequest : httpRequest;
    return new Promise<HeadResponse>((resolve, reject) => {
      const req = send(
        url,
        { method: 'HEAD', agent, headers: options.headers, ...(options.signal ? { signal: options.signal } : {}) },
        (res) => {
          res.resume();
          res.once('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers }));
          res.once('error', reject);
        },
      );
      // Same meaning as undici's headersTimeout: a silent connection is a failed request (retried by the caller).
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no response within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      req.once('error', reject);
      req.end();
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
    this.httpsUnverified.destroy();
  }
}

export interface HeadResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
}
