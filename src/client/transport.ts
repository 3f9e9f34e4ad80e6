import { Agent } from 'undici';
import { HeadAgents } from './head-request.js';

/** Connection settings shared by every registry of a run. */
export interface TransportOptions {
  /** Longest silence on a connection (no response headers, or no body bytes) before the request fails. @default 60 s */
  readonly stallTimeoutMs?: number;
  /** Connections per origin. @default 32 */
  readonly connections?: number;
}

/** Keep-alive connection pools: one verifying TLS, one for `insecure` registries. */
export class Transport {
  readonly verified: Agent;
  readonly unverified: Agent;
  readonly heads: HeadAgents;
  constructor(options: TransportOptions = {}) {
    const common = {
      connections: options.connections ?? 32,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.stallTimeoutMs ?? 60_000,
      bodyTimeout: options.stallTimeoutMs ?? 60_000,
    };
    this.verified = new Agent(common);
    this.unverified = new Agent({ ...common, connect: { rejectUnauthorized: false } });
    this.heads = new HeadAgents({ connections: common.connections, timeoutMs: common.headersTimeout });
  }
  async close(): Promise<void> {
    this.heads.close();
    await Promise.all([this.verified.close(), this.unverified.close()]);
  }
}
