import { request } from 'undici';
import { DOCKER_HUB } from '../oci/reference.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { RegistryLimiter } from './rate-limit.js';
import type { Transport } from './transport.js';

/** What a run knows about one registry: where its API is, whether it is plain HTTP, what it asks for. */
export interface Endpoint {
  readonly registry: string;
  /** Host that serves the API: Docker Hub's is registry-1.docker.io. */
  readonly host: string;
  insecure: boolean;
  readonly scheme: 'https' | 'http';
  challenge: Challenge | undefined;
  /**
   * Whether the registry has answered once, so its challenge (or that it has none) is known. Until then one request
   * goes first and the others wait for its answer: a run that starts 32 checks at once would otherwise collect 32
   * 401s to learn the same challenge.
   */
  discovered: boolean;
  /** The first request's answer, while it is awaited. */
  discovery: Promise<void> | undefined;
  /** Set once a registry refused a monolithic upload; later uploads go straight to chunked. */
  chunkedOnly: boolean;
}

const PROBE_TIMEOUT_MS = 10_000;

/** What `probeScheme` needs from the session: the pools, the limiter, and a counter of requests sent. */
export interface ProbeContext {
  readonly transport: Transport;
  readonly limiter: RegistryLimiter;
  readonly userAgent: string;
  readonly signal: AbortSignal | undefined;
  count(registry: string, method: string, target: URL, status: number | undefined): void;
}

/** The endpoint of `registry`: Docker Hub's API host, and for an `insecure` registry the scheme it answers on. */
export async function openEndpoint(context: ProbeContext, registry: string, insecure: boolean): Promise<Endpoint> {
  const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  const probed: { scheme: 'http' | 'https'; challenge?: Challenge } = insecure
    ? await probeScheme(context, registry, host)
    : { scheme: 'https' };
  return {
    registry,
    host,
    insecure,
    scheme: probed.scheme,
    // The ping's 401 names the scheme, realm and service: the first real request can carry credentials.
    challenge: probed.challenge,
    // A plain-HTTP registry answered the ping: what it asks for (or that it asks for nothing) is known.
    discovered: probed.scheme === 'http',
    discovery: undefined,
    chunkedOnly: false,
  };
}

/**
 * `insecure` means "plain HTTP or unverified TLS" (image-migrator auth.json). One unauthenticated ping decides:
 * plain `GET /v2/` first, because every server answers it at once (a TLS port rejects it immediately), whereas
 * a TLS ClientHello sent to a plain-HTTP port can go unanswered until a timeout. A registry answers /v2/ with 200
 * or 401 and `Docker-Distribution-API-Version` (distribution-spec "Determining support"); anything else means TLS.
 */
async function probeScheme(
  context: ProbeContext,
  registry: string,
  host: string,
): Promise<{ scheme: 'http' | 'https'; challenge?: Challenge }> {
  const url = new URL(`http://${host}/v2/`);
  await context.limiter.beforeRequest(registry, false, context.signal);
  try {
    const res = await request(url, {
      dispatcher: context.transport.unverified,
      method: 'GET',
      headers: { 'user-agent': context.userAgent },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    context.count(registry, 'GET', url, res.statusCode);
    await res.body.dump();
    // 429 and 5xx are plain-HTTP answers too (a TLS port answers plain HTTP with 400 or hangs up): a registry that is
    // throttling or briefly failing when first asked must not be taken for TLS for the rest of the run.
    const registryAnswer =
      res.statusCode === 200 ||
      res.statusCode === 401 ||
      res.statusCode === 429 ||
      res.statusCode >= 500 ||
      res.headers['docker-distribution-api-version'] !== undefined;
    if (!registryAnswer) return { scheme: 'https' };
    const challenge = res.statusCode === 401 ? parseChallenge(res.headers['www-authenticate']) : undefined;
    return { scheme: 'http', ...(challenge ? { challenge } : {}) };
  } catch {
    context.count(registry, 'GET', url, undefined);
    return { scheme: 'https' };
  }
}
