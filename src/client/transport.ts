import { Agent } from 'undici';
import { HeadAgents } from './head-request.js';
import { DEFAULT_CONNECTIONS_PER_ORIGIN, DEFAULT_STALL_TIMEOUT_MS } from '../defaults.js';

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
      connections: options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      bodyTimeout: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
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
