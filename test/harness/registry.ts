import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { get as getHttps } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startTokenServer, type TokenServer } from './token-server.js';

/**
 * Debian's CNCF distribution 2.8.2 (`docker-registry serve CONFIG`) on 127.0.0.1, one process per registry,
 * with no auth, htpasswd (bcrypt) Basic auth, or token auth against a harness token server.
 */

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface RegistryOptions {
  auth?: RegistryAuth;
  username?: string;
  password?: string;
  /** Storage root to use (and keep); by default a fresh temporary directory removed by stop(). */
  storageDir?: string;
  /** Put the default storage root on /dev/shm: on ext4 small-image copies take about twice as long. */
  tmpfs?: boolean;
  tokenExpiresInSeconds?: number;
  anonymousPull?: boolean;
  /** The token server's answer to several scopes in one request (see TokenServerOptions.multiScope). */
  tokenMultiScope?: { grantAtMost?: number; refuseAbove?: number };
  /**
   * Upload `Location`s relative to the request (distribution `http.relativeurls`), for a registry reached through a
   * proxy that terminates TLS: an absolute one would say http:// to a client that spoke https://.
   */
  relativeUrls?: boolean;
  /** Serve HTTPS with this certificate and key (PEM files); `url` is then https://. */
  tls?: { certificate: string; key: string };
}

export interface RunningRegistry {
  auth: RegistryAuth;
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  username?: string;
  password?: string;
  tokenServer?: TokenServer;
  /** The current process; changes on restart(). */
  readonly pid: number;
  storageDir: string;
  stop(): Promise<void>;
  /** Signal the process without cleaning up (fault tests); restart() or stop() afterwards. */
  kill(signal?: NodeJS.Signals): void;
  /** A new process on the same port, storage and HTTP secret (so upload sessions survive). */
  restart(): Promise<void>;
  /** A new process on the same port with empty storage: every repository, blob and upload gone (bench cold runs). */
  wipe(): Promise<void>;
}

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const TOKEN_SERVICE = 'test-registry';
export const TOKEN_ISSUER = 'test-issuer';

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const BIND_ATTEMPTS = 5;

interface Instance {
  process: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

const running = new Set<{ stop(): Promise<void>; pid: number; dirs: string[] }>();

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const auth = opts.auth ?? 'none';
  const username = auth === 'none' ? undefined : (opts.username ?? 'tester');
  const password = auth === 'none' ? undefined : (opts.password ?? randomBytes(18).toString('base64url'));
  if (username !== undefined && username.includes(':')) throw new Error('startRegistry: username must not contain ":"');

  const configDir = await mkdtemp(join(tmpdir(), 'harness-registry-'));
  const ownedDirs = [configDir];
  let storageDir = opts.storageDir;
  if (storageDir === undefined) {
    const base = opts.tmpfs && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    storageDir = await mkdtemp(join(base, 'harness-storage-'));
    ownedDirs.push(storageDir);
  }
  for (const dir of ownedDirs) watchdog.track('dir', dir);

  let tokenServer: TokenServer | undefined;
  let authConfig = '';
  try {
    if (auth === 'basic') {
      const htpasswdPath = join(configDir, 'htpasswd');
      await writeFile(htpasswdPath, await bcryptEntry(username!, password!), { mode: 0o600 });
      authConfig = `auth:\n  htpasswd:\n    realm: "test"\n    path: ${JSON.stringify(htpasswdPath)}\n`;
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({
        service: TOKEN_SERVICE,
        issuer: TOKEN_ISSUER,
        users: { [username!]: password! },
        ...(opts.tokenExpiresInSeconds !== undefined && { expiresInSeconds: opts.tokenExpiresInSeconds }),
        ...(opts.anonymousPull !== undefined && { anonymousPull: opts.anonymousPull }),
        ...(opts.tokenMultiScope !== undefined && { multiScope: opts.tokenMultiScope }),
      });
      authConfig =
        `auth:\n  token:\n    realm: ${JSON.stringify(tokenServer.url)}\n    service: "${TOKEN_SERVICE}"\n` +
        `    issuer: "${TOKEN_ISSUER}"\n    rootcertbundle: ${JSON.stringify(tokenServer.certPath)}\n`;
    }
  } catch (err) {
    await tokenServer?.stop();
    await removeDirs(ownedDirs);
    throw err;
  }

  // Fixed across restarts: distribution signs upload-session state (`_state`) with it.
  const secret = randomBytes(24).toString('hex');
  const configPath = join(configDir, 'config.yml');
  const launch = async (port: number): Promise<Instance> => {
    // A per-launch nonce echoed in every response tells our process apart from whatever else holds the port.
    const nonce = randomBytes(8).toString('hex');
    await writeFile(
      configPath,
      renderConfig({
        port,
        storageDir: storageDir!,
        secret,
        nonce,
        authConfig,
        relativeUrls: opts.relativeUrls === true,
        ...(opts.tls && { tls: opts.tls }),
      }),
    );
    return spawnRegistry(configPath, port, nonce, opts.tls !== undefined);
  };

  let port = 0;
  let instance: Instance | undefined;
  try {
    for (let attempt = 1; instance === undefined; attempt++) {
      port = await freePort();
      try {
        instance = await launch(port);
      } catch (err) {
        if (!(err instanceof BindConflict) || attempt >= BIND_ATTEMPTS) throw err;
      }
    }
  } catch (err) {
    await tokenServer?.stop();
    await removeDirs(ownedDirs);
    throw err;
  }

  let current: Instance = instance;
  let stopping: Promise<void> | undefined;
  const entry = {
    stop: () => registry.stop(),
    get pid() {
      return current.process.pid!;
    },
    dirs: ownedDirs,
  };
  running.add(entry);
  installExitHook();

  const registry: RunningRegistry = {
    auth,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tokenServer !== undefined && { tokenServer }),
    get pid() {
      return current.process.pid!;
    },
    storageDir,
    stop() {
      stopping ??= (async () => {
        await terminate(current);
        running.delete(entry);
        await tokenServer?.stop();
        await removeDirs(ownedDirs);
      })();
      return stopping;
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (current.process.exitCode === null && current.process.signalCode === null) current.process.kill(signal);
    },
    async restart() {
      if (stopping !== undefined) throw new Error('restart: the registry was stopped');
      await terminate(current);
      await relaunch();
    },
    async wipe() {
      if (stopping !== undefined) throw new Error('wipe: the registry was stopped');
      await terminate(current);
      await rm(storageDir!, { recursive: true, force: true });
      await mkdir(storageDir!, { recursive: true });
      await relaunch();
    },
  };
  // Go listeners set SO_REUSEADDR, so the port is free again at once unless someone else took it.
  async function relaunch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        current = await launch(port);
        return;
      } catch (err) {
        if (!(err instanceof BindConflict) || attempt >= BIND_ATTEMPTS) throw err;
        await delay(100 * attempt);
      }
    }
  }
  return registry;
}

/** Stops every registry this process started and has not stopped yet. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()));
}

class BindConflict extends Error {}

function renderConfig(c: {
  port: number;
  storageDir: string;
  secret: string;
  nonce: string;
  authConfig: string;
  relativeUrls: boolean;
  tls?: { certificate: string; key: string };
}): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(c.storageDir)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: "127.0.0.1:${c.port}"`,
    `  secret: "${c.secret}"`,
    ...(c.relativeUrls ? ['  relativeurls: true'] : []),
    '  headers:',
    `    X-Harness-Instance: ["${c.nonce}"]`,
    ...(c.tls
      ? ['  tls:', `    certificate: ${JSON.stringify(c.tls.certificate)}`, `    key: ${JSON.stringify(c.tls.key)}`]
      : []),
    c.authConfig,
  ].join('\n');
}

async function spawnRegistry(configPath: string, port: number, nonce: string, tls: boolean): Promise<Instance> {
  // REGISTRY_* variables override the config file (e.g. REGISTRY_HTTP_ADDR): keep the caller's out.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  // Output goes to a file, not a pipe: a registry logs every 404 at level error, and a pipe the test process does
  // not drain (e.g. while it blocks in spawnSync) fills up and stalls the registry mid-request.
  const logPath = `${configPath}.log`;
  const logFd = openSync(logPath, 'w');
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  const tailOf = (): string => {
    try {
      return readFileSync(logPath, 'utf8').slice(-4096);
    } catch {
      return '';
    }
  };
  // A forgotten registry must not keep the test process alive; the exit hook and the watchdog end it.
  child.unref();

  let exitedEarly: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (child.pid !== undefined) watchdog.track('unpid', String(child.pid));
      exitedEarly = new Error(`docker-registry exited (${signal ?? `code ${code}`})`);
      resolve();
    });
    child.once('error', (err) => {
      exitedEarly = err;
      resolve();
    });
  });
  if (child.pid !== undefined) watchdog.track('pid', String(child.pid));
  const instance: Instance = { process: child, exited, output: tailOf };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) {
      const tail = tailOf();
      if (/address already in use/i.test(tail)) throw new BindConflict(`port ${port} is taken`);
      throw new Error(`docker-registry did not start on port ${port}: ${exitedEarly.message}\n${tail.trim()}`);
    }
    if (await answersV2(port, nonce, tls)) return instance;
    await delay(25);
  }
  await terminate(instance);
  throw new Error(
    `docker-registry did not answer GET /v2/ on port ${port} within ${READY_TIMEOUT_MS} ms\n${tailOf().trim()}`,
  );
}

/** distribution answers /v2/ with 200 without auth and 401 with it; both mean it is serving. */
function answersV2(port: number, nonce: string, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1',
      port,
      path: '/v2/',
      agent: false,
      timeout: 1000,
      rejectUnauthorized: false,
    } as const;
    const req = (tls ? getHttps : get)(options, (res) => {
      res.resume();
      resolve((res.statusCode === 200 || res.statusCode === 401) && res.headers['x-harness-instance'] === nonce);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function terminate(instance: Instance): Promise<void> {
  const child = instance.process;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await instance.exited;
    return;
  }
  child.kill('SIGTERM');
  // A registry paused with kill('SIGSTOP') only acts on SIGTERM once continued.
  child.kill('SIGCONT');
  if (await settlesWithin(instance.exited, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await instance.exited;
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function bcryptEntry(username: string, password: string): Promise<string> {
  // -i reads the password from stdin: never put it in argv, where `ps` shows it. distribution only reads bcrypt.
  return new Promise((resolve, reject) => {
    const child = spawn('htpasswd', ['-niB', username], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.trim();
      if (code === 0 && line.startsWith(`${username}:$2`)) resolve(`${line}\n`);
      else reject(new Error(`htpasswd failed (code ${code}): ${err.trim()}`));
    });
    child.stdin.end(`${password}\n`);
  });
}

async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    watchdog.track('undir', dir);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let exitHookInstalled = false;

/** Normal exits, including a test file that never called stop(): kill what is left and free tmpfs. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const r of running) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      for (const dir of r.dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Deaths that skip 'exit' handlers (SIGKILL, a test runner's timeout, an uncaught signal) are covered by a
 * detached shell that reads registry pids and temp dirs on a pipe from this process; when the pipe closes,
 * because this process ended however it did, it kills the pids and removes the dirs still listed.
 */
const watchdog = (() => {
  const script = [
    "pids=' '; dirs=' '",
    'while read -r op arg; do',
    '  case "$op" in',
    '    pid) pids="$pids$arg " ;;',
    '    unpid) pids=$(printf "%s" "$pids" | sed "s| $arg | |") ;;',
    '    dir) dirs="$dirs$arg " ;;',
    '    undir) dirs=$(printf "%s" "$dirs" | sed "s| $arg | |") ;;',
    '  esac',
    'done',
    'kill -9 $pids 2>/dev/null',
    'rm -rf $dirs',
  ].join('\n');
  let child: ChildProcess | undefined;
  return {
    track(op: 'pid' | 'unpid' | 'dir' | 'undir', arg: string): void {
      // The shell splits on whitespace and sed treats '|' as the delimiter: such paths are left to the exit hook.
      if (!/^[\w./+-]+$/.test(arg)) return;
      if (child === undefined) {
        child = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
        child.on('error', () => {});
        child.stdin!.on('error', () => {});
        child.unref();
        (child.stdin as unknown as Socket).unref();
      }
      child.stdin!.write(`${op} ${arg}\n`);
    },
  };
})();
