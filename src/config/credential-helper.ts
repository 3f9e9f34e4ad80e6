import { spawn } from 'node:child_process';
import { z } from 'zod';
import { SwrSyncError } from '../errors.js';
import { DOCKER_HUB } from '../oci/reference.js';
import type { Credential } from './credentials.js';

// ---------------------------------------------------------------------------------------------------------------
// Credential helpers (docker-credential-helpers protocol: `get`, server URL on stdin, JSON on stdout)

const HELPER_TIMEOUT_MS = 60_000;
const HELPER_OUTPUT_MAX = 1 << 20;
const HELPER_NOT_FOUND = /credentials not found/i;
const HelperOutput = z.looseObject({ Username: z.string().optional(), Secret: z.string().optional() });

/** Per helper and host, for the process lifetime: a helper may prompt, unlock a keychain or call a cloud API. */
const helperCache = new Map<string, Promise<Credential | undefined>>();

export function helperCredential(helper: string, host: string): Promise<Credential | undefined> {
  const cacheKey = `${helper}\n${host}`;
  let pending = helperCache.get(cacheKey);
  if (pending === undefined) {
    pending = queryHelper(helper, host);
    helperCache.set(cacheKey, pending);
    // Failures are not remembered: a later lookup may succeed (e.g. once a keychain is unlocked).
    const mine = pending;
    mine.catch(() => {
      if (helperCache.get(cacheKey) === mine) helperCache.delete(cacheKey);
    });
  }
  return pending;
}

async function queryHelper(helper: string, host: string): Promise<Credential | undefined> {
  // docker stores Docker Hub under its v1 index URL, podman and others under the plain name.
  const serverUrls = host === DOCKER_HUB ? ['https://index.docker.io/v1/', DOCKER_HUB] : [host];
  for (const serverUrl of serverUrls) {
    const credential = await runHelper(helper, serverUrl, host);
    if (credential !== undefined) return credential;
  }
  return undefined;
}

function runHelper(helper: string, serverUrl: string, host: string): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  // Neither stdout nor stderr goes into the message: a misbehaving helper may print the secret.
  const failure = (problem: string, cause?: unknown): SwrSyncError =>
    new SwrSyncError('ERR_CREDENTIAL_HELPER', `credential helper ${program} ${problem} (registry ${host})`, {
      registry: host,
      ...(cause !== undefined ? { cause } : {}),
    });

  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HELPER_TIMEOUT_MS);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= HELPER_OUTPUT_MAX) into.push(chunk);
      else child.kill('SIGKILL');
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    // The helper may exit without reading stdin; its exit status says what happened.
    child.stdin.on('error', () => {});

    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        failure(e.code === 'ENOENT' ? 'is not on PATH' : `could not be started (${e.code ?? 'unknown error'})`, e),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) {
        const credential = parseHelperOutput(out);
        if (credential === null) reject(failure('printed something other than credentials JSON'));
        else resolve(credential);
        return;
      }
      if (
        code !== null &&
        (HELPER_NOT_FOUND.test(out) || HELPER_NOT_FOUND.test(Buffer.concat(stderr).toString('utf8')))
      ) {
        resolve(undefined);
        return;
      }
      if (timedOut) reject(failure(`did not answer within ${HELPER_TIMEOUT_MS / 1000}s`));
      else if (size > HELPER_OUTPUT_MAX) reject(failure(`printed more than ${HELPER_OUTPUT_MAX} bytes`));
      else reject(failure(signal ? `was killed by ${signal}` : `failed with exit status ${code}`));
    });

    child.stdin.end(serverUrl);
  });
}

/** `null`: not the helper protocol's JSON; `undefined`: an answer without a secret. */
function parseHelperOutput(out: string): Credential | undefined | null {
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    return null;
  }
  const parsed = HelperOutput.safeParse(json);
  if (!parsed.success) return null;
  const { Username = '', Secret = '' } = parsed.data;
  if (Secret === '') return undefined;
  return { username: Username, password: Secret };
}
