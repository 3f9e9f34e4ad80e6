/**
 * `npm run bench` (docs/performance.md): swr-sync and skopeo side by side on loopback
 * registries (tmpfs when available), every destination digest verified after every run.
 *
 *   node lib/bench/bench.js [--runs N] [--sets a,b,c,d,e] [--modes none,basic,token] [--json FILE]
 *                           [--quick] [--write-results]
 *   node lib/bench/bench.js --cross-region [--rtt 50,150] [--cuts 5] [--runs N] [--slow-runs N] [--sets a,d] [--write-results]
 *
 * `--cross-region` runs the cross-region bench instead (cross-region.ts): TLS registries behind proxies that add the
 * round trip and can cut connections.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ImageBuilder,
  startProxy,
  startRegistry,
  verifyImageComplete,
  type Proxy,
  type RegistryAuth,
  type RunningRegistry,
} from '../test/harness/index.js';
import { buildPlanRepo, buildSetA, buildSetB, buildSetC, buildSetD, type DataSet, type SetId } from './datasets.js';
import { capture, runMeasured, type ProcRun } from './proc.js';
import { crossRegionTargets, measureCrossRegion, renderCrossRegion } from './cross-region.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
/** The bundled CLI, as `npm install` users run it (package.json `bin`). */
const CLI = resolve(here, '../bin/swr-sync.js');
const FLOOR_COPIER = resolve(here, 'floor-copier.js');
const SKOPEO = 'skopeo';
/** Node flags for every swr-sync child; set from `--profile`. */
let nodeArgs: string[] = [];
/** skopeo's blob-info cache as root; ~/.local/share/containers/cache otherwise (the bench gives it a fresh HOME). */
const SKOPEO_BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
const MiB = 1024 * 1024;

type Tool = 'swr-sync' | 'skopeo';
const TOOLS: Tool[] = ['swr-sync', 'skopeo'];

// ---------------------------------------------------------------- options

interface Options {
  runs: number;
  sets: Array<SetId | 'e'>;
  modes: RegistryAuth[];
  json?: string;
  quick: boolean;
  writeResults: boolean;
  planSizes: number[];
  /** Directory for V8 CPU profiles of every swr-sync run (`--cpu-prof`); profiling slows the runs it measures. */
  profile?: string;
  /** Also time the floor copier (floor-copier.ts) against swr-sync on sets a and b, with the registries' CPU. */
  floor: boolean;
  /** `--cross-region`: round trips (ms) to measure instead of loopback. */
  crossRegion?: { rtts: number[]; cuts: number; slowRuns: number };
}

function parseArgs(argv: string[]): Options {
  let runs: number | undefined;
  let sets: Array<SetId | 'e'> = ['a', 'b', 'c', 'd', 'e'];
  let modes: RegistryAuth[] = ['none', 'basic', 'token'];
  let json: string | undefined;
  let quick = false;
  let writeResults = false;
  let profile: string | undefined;
  let floor = false;
  let crossRegion = false;
  let rtts = [50, 150];
  let cuts = 5;
  let slowRuns = 1;
  let setsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--runs') runs = Number(value());
    else if (arg === '--cross-region') crossRegion = true;
    else if (arg === '--rtt') rtts = value().split(',').map(Number);
    else if (arg === '--cuts') cuts = Number(value());
    else if (arg === '--slow-runs') slowRuns = Number(value());
    else if (arg === '--sets' && (setsGiven = true))
      sets = value()
        .split(',')
        .map((s) => s.trim()) as Array<SetId | 'e'>;
    else if (arg === '--modes')
      modes = value()
        .split(',')
        .map((s) => s.trim()) as RegistryAuth[];
    else if (arg === '--json') json = resolve(value());
    else if (arg === '--quick') quick = true;
    else if (arg === '--write-results') writeResults = true;
    else if (arg === '--profile') profile = resolve(value());
    else if (arg === '--floor') floor = true;
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(
        'usage: npm run bench -- [--runs N] [--sets a,b,c,d,e] [--modes none,basic,token] [--json FILE] [--quick] [--write-results] [--profile DIR] [--floor]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (crossRegion) {
    if (!setsGiven) sets = ['a', 'd'];
    for (const s of sets) if (s !== 'a' && s !== 'd') throw new Error(`--cross-region measures sets a and d, not ${s}`);
    if (
      rtts.some((r) => !Number.isFinite(r) || r < 0) ||
      !Number.isInteger(cuts) ||
      cuts < 0 ||
      !Number.isInteger(slowRuns) ||
      slowRuns < 1
    )
      throw new Error('--rtt, --cuts and --slow-runs take non-negative numbers');
  }
  if (runs === undefined) runs = crossRegion ? 2 : quick ? 2 : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  for (const s of sets) if (!['a', 'b', 'c', 'd', 'e'].includes(s)) throw new Error(`unknown set ${s}`);
  for (const m of modes) if (!['none', 'basic', 'token'].includes(m)) throw new Error(`unknown mode ${m}`);
  if (modes.length === 0 || sets.length === 0) throw new Error('--sets and --modes must not be empty');
  if (profile !== undefined && writeResults)
    throw new Error('--profile slows swr-sync down: it cannot be combined with --write-results');
  return {
    runs,
    sets,
    modes,
    ...(json !== undefined && { json }),
    ...(profile !== undefined && { profile }),
    floor,
    quick,
    writeResults,
    planSizes: quick ? [100, 1000] : [1000, 10000],
    ...(crossRegion && { crossRegion: { rtts, cuts, slowRuns } }),
  };
}

// ---------------------------------------------------------------- statistics and formatting

interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

function stat(samples: number[]): Stat {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]!, samples };
}

const secs = (ms: number): string => (ms / 1000).toFixed(2);
const fmtTime = (s: Stat): string => `${secs(s.median)} s (${secs(s.min)}–${secs(s.max)})`;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

// ---------------------------------------------------------------- endpoints (direct or through counting proxies)

interface Endpoint {
  srcHost: string;
  dstHost: string;
  /** auth.json for swr-sync (image-migrator format, ${VAR} passwords, insecure per host). */
  authJson: string;
  /** containers-auth.json for skopeo. */
  authFile: string;
  env: Record<string, string>;
}

async function writeEndpoint(
  dir: string,
  label: string,
  src: RunningRegistry,
  dst: RunningRegistry,
  srcHost: string,
  dstHost: string,
): Promise<Endpoint> {
  const auth: Record<string, { username?: string; password?: string; insecure: boolean }> = {};
  const auths: Record<string, { auth: string }> = {};
  const env: Record<string, string> = {};
  for (const [r, host, variable] of [
    [src, srcHost, 'BENCH_SRC_PASSWORD'],
    [dst, dstHost, 'BENCH_DST_PASSWORD'],
  ] as const) {
    if (r.username !== undefined && r.password !== undefined) {
      auth[host] = { username: r.username, password: `\${${variable}}`, insecure: true };
      env[variable] = r.password;
      auths[host] = { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') };
    } else auth[host] = { insecure: true };
  }
  const authJson = join(dir, `auth-${label}.json`);
  const authFile = join(dir, `containers-auth-${label}.json`);
  await writeFile(authJson, JSON.stringify(auth, null, 2), { mode: 0o600 });
  await writeFile(authFile, JSON.stringify({ auths }, null, 2), { mode: 0o600 });
  return { srcHost, dstHost, authJson, authFile, env };
}

// ---------------------------------------------------------------- running the tools

interface ToolRun extends ProcRun {
  tool: Tool;
}

let runCounter = 0;

async function runTool(
  tool: Tool,
  set: DataSet,
  ep: Endpoint,
  ns: string,
  work: string,
  cold: boolean,
): Promise<ToolRun> {
  const dir = join(work, `run-${++runCounter}`);
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...ep.env };
  let run: ProcRun;
  if (tool === 'swr-sync') {
    if (set.kind === 'sync') {
      const images: Record<string, string> = {};
      for (const repo of new Set(set.images.map((i) => i.srcRepo))) {
        const name = repo.split('/').pop()!;
        images[`${ep.srcHost}/${repo}`] = `${ep.dstHost}/${ns}/${name}`;
      }
      await writeFile(join(dir, 'images.json'), JSON.stringify(images, null, 2));
      // The lock file lives with the namespace, as in a repository: the warm rerun reads what the cold run wrote.
      const lock = join(work, `${ns}.lock.json`);
      run = await runMeasured(
        process.execPath,
        [
          ...nodeArgs,
          CLI,
          'sync',
          '--auth',
          ep.authJson,
          '--images',
          join(dir, 'images.json'),
          '--lock',
          lock,
          '--json',
          '--log',
          join(dir, 'swr-sync.log'),
        ],
        { env: baseEnv, cwd: dir },
      );
    } else {
      const img = set.images[0]!;
      run = await runMeasured(
        process.execPath,
        [
          ...nodeArgs,
          CLI,
          'copy',
          `${ep.srcHost}/${img.srcRepo}:${img.tag}`,
          `${ep.dstHost}/${ns}/${img.name}:${img.tag}`,
          '--auth',
          ep.authJson,
          '--json',
        ],
        { env: baseEnv, cwd: dir },
      );
    }
  } else {
    // A cold run starts without skopeo's blob-info cache (it would otherwise remember blob locations).
    if (cold) rmSync(SKOPEO_BLOB_CACHE, { force: true });
    const common = ['--authfile', ep.authFile, '--src-tls-verify=false', '--dest-tls-verify=false'];
    if (set.kind === 'sync') {
      // The source host has a port: --scoped would build an invalid reference, so give the destination
      // namespace (skopeo keeps the last path component of each source repository).
      const repos = [...new Set(set.images.map((i) => i.srcRepo))];
      const yaml = `${JSON.stringify(ep.srcHost)}:\n  tls-verify: false\n  images:\n${repos.map((r) => `    ${JSON.stringify(r)}: []`).join('\n')}\n`;
      await writeFile(join(dir, 'sync.yaml'), yaml);
      run = await runMeasured(
        SKOPEO,
        [
          'sync',
          '--all',
          '--src',
          'yaml',
          '--dest',
          'docker',
          '--authfile',
          ep.authFile,
          '--dest-tls-verify=false',
          join(dir, 'sync.yaml'),
          `${ep.dstHost}/${ns}`,
        ],
        { env: baseEnv, cwd: dir },
      );
    } else {
      const img = set.images[0]!;
      run = await runMeasured(
        SKOPEO,
        [
          'copy',
          '--all',
          ...common,
          `docker://${ep.srcHost}/${img.srcRepo}:${img.tag}`,
          `docker://${ep.dstHost}/${ns}/${img.name}:${img.tag}`,
        ],
        { env: baseEnv, cwd: dir },
      );
    }
  }
  if (run.code !== 0) {
    throw new Error(
      `${tool} failed (exit ${run.code ?? run.signal}) on set ${set.id} into ${ns}\nstdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  return { ...run, tool };
}

/** Every destination tag must resolve to exactly the digest pushed to the source, with every blob present. */
async function verify(set: DataSet, dst: RunningRegistry, ns: string, what: string): Promise<void> {
  const endpoint = {
    url: dst.url,
    ...(dst.username !== undefined && { username: dst.username }),
    ...(dst.password !== undefined && { password: dst.password }),
  };
  const problems: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < set.images.length) {
      const img = set.images[next++]!;
      const got = await verifyImageComplete(endpoint, `${ns}/${img.name}`, img.tag);
      if (got.digest !== img.digest)
        problems.push(`${ns}/${img.name}:${img.tag} is ${got.digest || 'absent'}, expected ${img.digest}`);
      else if (got.missing.length > 0) problems.push(`${ns}/${img.name}:${img.tag} lacks ${got.missing.join(', ')}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (problems.length > 0) {
    throw new Error(
      `VERIFICATION FAILED after ${what} (set ${set.id}): ${problems.length} wrong destination image(s)\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  }
}

// ---------------------------------------------------------------- request counting

interface Requests {
  src: number;
  dst: number;
  token: number;
  /** Without 401 answers (auth challenges). */
  src2xx: number;
  dst2xx: number;
  srcBlobGets: number;
  dstBlobWrites: number;
  dstMounts: number;
}

function countRequests(src: Proxy, dst: Proxy, tokens: number): Requests {
  const ok = (r: { status?: number }) => r.status !== 401;
  const blobGet = /^\/v2\/.+\/blobs\/sha256:[a-f0-9]{64}/;
  const srcBlobGets = src.requests.filter((r) => r.method === 'GET' && blobGet.test(r.path) && ok(r)).length;
  const uploads = dst.requests.filter((r) => /\/blobs\/uploads\//.test(r.path) && ok(r));
  const dstMounts = uploads.filter((r) => r.method === 'POST' && /[?&]mount=/.test(r.path)).length;
  return {
    src: src.requests.length,
    dst: dst.requests.length,
    token: tokens,
    src2xx: src.requests.filter(ok).length,
    dst2xx: dst.requests.filter(ok).length,
    srcBlobGets,
    dstBlobWrites: uploads.length - dstMounts,
    dstMounts,
  };
}

// ---------------------------------------------------------------- results

interface Row {
  set: string;
  title: string;
  mode: RegistryAuth;
  phase: 'cold' | 'warm' | 'plan';
  tags: number;
  time: Partial<Record<Tool, Stat>>;
  rss: Partial<Record<Tool, Stat>>;
  requests: Partial<Record<Tool, Requests>>;
  ratio?: number;
}

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

interface Machine {
  nproc: number;
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  skopeo: string;
  registry: string;
  tmpfs: string;
  date: string;
}

async function describeMachine(tmpfs: boolean): Promise<Machine> {
  let nproc = cpus().length;
  const n = await capture('nproc', []);
  if (/^\d+$/.test(n)) nproc = Number(n);
  return {
    nproc,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    skopeo: await capture(SKOPEO, ['--version']),
    registry: await capture('/usr/bin/docker-registry', ['--version']),
    tmpfs: tmpfs
      ? 'registries storage, images and blob files on /dev/shm (tmpfs)'
      : 'no /dev/shm: storage on the default temporary directory',
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------- the bench

interface ModeContext {
  mode: RegistryAuth;
  src: RunningRegistry;
  dst: RunningRegistry;
  direct: Endpoint;
  srcProxy: Proxy;
  dstProxy: Proxy;
  proxied: Endpoint;
}

function tokenCount(ctx: ModeContext): number {
  return (ctx.src.tokenServer?.requests.length ?? 0) + (ctx.dst.tokenServer?.requests.length ?? 0);
}

async function startMode(mode: RegistryAuth, work: string): Promise<ModeContext> {
  const [src, dst] = await Promise.all([
    startRegistry({ auth: mode, tmpfs: true }),
    startRegistry({ auth: mode, tmpfs: true }),
  ]);
  const [srcProxy, dstProxy] = await Promise.all([startProxy({ target: src.url }), startProxy({ target: dst.url })]);
  const direct = await writeEndpoint(work, `${mode}-direct`, src, dst, src.host, dst.host);
  const proxied = await writeEndpoint(work, `${mode}-proxied`, src, dst, srcProxy.host, dstProxy.host);
  return { mode, src, dst, direct, srcProxy, dstProxy, proxied };
}

async function stopMode(ctx: ModeContext): Promise<void> {
  await Promise.all([ctx.srcProxy.stop(), ctx.dstProxy.stop()]);
  await Promise.all([ctx.src.stop(), ctx.dst.stop()]);
}

function log(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

async function measureCopySet(ctx: ModeContext, set: DataSet, runs: number, work: string): Promise<Row[]> {
  const cold: Record<Tool, ProcRun[]> = { 'swr-sync': [], skopeo: [] };
  const warm: Record<Tool, ProcRun[]> = { 'swr-sync': [], skopeo: [] };
  const prefix = (tool: Tool): string => `${set.id}-${tool === 'skopeo' ? 'sk' : 'swr'}-${ctx.mode}`;
  for (let i = 0; i < runs; i++) {
    // Alternate which tool goes first so drift (page cache, tmpfs growth) does not favour one.
    for (const tool of i % 2 === 0 ? TOOLS : [...TOOLS].reverse()) {
      // Every cold run starts from an empty destination registry (issue 7: the destination wiped between runs).
      await ctx.dst.wipe();
      const ns = `${prefix(tool)}-c${i}`;
      const run = await runTool(tool, set, ctx.direct, ns, work, true);
      await verify(set, ctx.dst, ns, `${tool} cold run ${i + 1}`);
      cold[tool].push(run);
      log(`set ${set.id} ${ctx.mode} cold ${i + 1}/${runs} ${tool}: ${secs(run.wallMs)} s, ${mib(run.peakRssBytes)}`);
    }
  }
  // Warm: each tool copies once into its own namespace of a wiped registry (not measured), then reruns with nothing
  // changed, alternating.
  await ctx.dst.wipe();
  for (const tool of TOOLS) {
    await runTool(tool, set, ctx.direct, `${prefix(tool)}-w`, work, true);
    await verify(set, ctx.dst, `${prefix(tool)}-w`, `${tool} copy before the warm runs`);
  }
  for (let i = 0; i < runs; i++) {
    for (const tool of i % 2 === 0 ? TOOLS : [...TOOLS].reverse()) {
      const ns = `${prefix(tool)}-w`;
      const run = await runTool(tool, set, ctx.direct, ns, work, false);
      await verify(set, ctx.dst, ns, `${tool} warm run ${i + 1}`);
      warm[tool].push(run);
      log(`set ${set.id} ${ctx.mode} warm ${i + 1}/${runs} ${tool}: ${secs(run.wallMs)} s, ${mib(run.peakRssBytes)}`);
    }
  }
  // One extra counted run per tool (cold into a wiped registry, then its warm rerun) through the counting proxies.
  const counted: Record<'cold' | 'warm', Partial<Record<Tool, Requests>>> = { cold: {}, warm: {} };
  for (const tool of TOOLS) {
    const ns = `${prefix(tool)}-p`;
    await ctx.dst.wipe();
    for (const phase of ['cold', 'warm'] as const) {
      ctx.srcProxy.reset();
      ctx.dstProxy.reset();
      const tokensBefore = tokenCount(ctx);
      await runTool(tool, set, ctx.proxied, ns, work, phase === 'cold');
      counted[phase][tool] = countRequests(ctx.srcProxy, ctx.dstProxy, tokenCount(ctx) - tokensBefore);
      ctx.srcProxy.reset();
      ctx.dstProxy.reset();
      await verify(set, ctx.dst, ns, `${tool} counted ${phase} run`);
    }
  }
  const row = (phase: 'cold' | 'warm', runsOf: Record<Tool, ProcRun[]>): Row => {
    const time = {
      'swr-sync': stat(runsOf['swr-sync'].map((r) => r.wallMs)),
      skopeo: stat(runsOf.skopeo.map((r) => r.wallMs)),
    };
    return {
      set: set.id,
      title: set.title,
      mode: ctx.mode,
      phase,
      tags: set.images.length,
      time,
      rss: {
        'swr-sync': stat(runsOf['swr-sync'].map((r) => r.peakRssBytes)),
        skopeo: stat(runsOf.skopeo.map((r) => r.peakRssBytes)),
      },
      requests: counted[phase],
      ratio: time['swr-sync'].median / time.skopeo.median,
    };
  };
  return [row('cold', cold), row('warm', warm)];
}

interface FloorRow {
  set: SetId;
  title: string;
  time: { 'swr-sync': Stat; floor: Stat };
  /** CPU-seconds the two registries spent during each run (utime + stime from /proc/<pid>/stat). */
  registryCpu: { 'swr-sync': Stat; floor: Stat };
  /** CPU time of the copying process itself. */
  clientCpu: { 'swr-sync': Stat; floor: Stat };
  skopeoMedianMs: number;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * `--floor`: swr-sync and the floor copier alternately, cold, each into a wiped destination registry, with
 * the registries' CPU measured around each run: what is left for swr-sync to gain on this machine.
 */
async function measureFloor(
  ctx: ModeContext,
  set: DataSet,
  runs: number,
  work: string,
  skopeoMedianMs: number,
): Promise<FloorRow> {
  const list = join(work, `floor-${set.id}.json`);
  await writeFile(list, JSON.stringify(set.images.map(({ srcRepo, name, tag }) => ({ srcRepo, name, tag }))));
  const times: Record<'swr-sync' | 'floor', number[]> = { 'swr-sync': [], floor: [] };
  const cpu: Record<'swr-sync' | 'floor', number[]> = { 'swr-sync': [], floor: [] };
  const own: Record<'swr-sync' | 'floor', number[]> = { 'swr-sync': [], floor: [] };
  const registryCpu = (): number => cpuSeconds(ctx.src.pid) + cpuSeconds(ctx.dst.pid);
  for (let i = 0; i < runs; i++) {
    for (const tool of i % 2 === 0 ? (['floor', 'swr-sync'] as const) : (['swr-sync', 'floor'] as const)) {
      const ns = `${set.id}-${tool === 'floor' ? 'fl' : 'swrf'}-${ctx.mode}-c${i}`;
      await ctx.dst.wipe();
      const before = registryCpu();
      const run =
        tool === 'floor'
          ? await runMeasured(process.execPath, [FLOOR_COPIER, ctx.direct.srcHost, ctx.direct.dstHost, ns, list], {
              cwd: work,
            })
          : await runTool('swr-sync', set, ctx.direct, ns, work, true);
      if (run.code !== 0) throw new Error(`${tool} failed on set ${set.id}: ${run.stderr.slice(-2000)}`);
      cpu[tool].push((registryCpu() - before) * 1000);
      own[tool].push(run.cpuMs);
      await verify(set, ctx.dst, ns, `${tool} floor run ${i + 1}`);
      times[tool].push(run.wallMs);
      log(
        `set ${set.id} ${ctx.mode} floor ${i + 1}/${runs} ${tool}: ${secs(run.wallMs)} s, registries ${secs(cpu[tool].at(-1)!)} CPU-s`,
      );
    }
  }
  return {
    set: set.id,
    title: set.title,
    time: { 'swr-sync': stat(times['swr-sync']), floor: stat(times.floor) },
    registryCpu: { 'swr-sync': stat(cpu['swr-sync']), floor: stat(cpu.floor) },
    clientCpu: { 'swr-sync': stat(own['swr-sync']), floor: stat(own.floor) },
    skopeoMedianMs,
  };
}

function renderFloor(rows: readonly FloorRow[]): string {
  const lines = [
    '| set | swr-sync | floor copier | floor / skopeo | swr-sync / floor | CPU-s swr-sync + its registries | CPU-s floor + its registries |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.set}: ${r.title} | ${fmtTime(r.time['swr-sync'])} | ${fmtTime(r.time.floor)} | ${(r.time.floor.median / r.skopeoMedianMs).toFixed(2)}× | ${(r.time['swr-sync'].median / r.time.floor.median).toFixed(2)}× | ${secs(r.clientCpu['swr-sync'].median)} + ${secs(r.registryCpu['swr-sync'].median)} | ${secs(r.clientCpu.floor.median)} + ${secs(r.registryCpu.floor.median)} |`,
    );
  }
  return lines.join('\n');
}

async function measurePlan(
  ctx: ModeContext,
  builder: ImageBuilder,
  sizes: number[],
  runs: number,
  work: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of sizes) {
    const repo = `bench-e/n${size}`;
    log(`set e: pushing ${size} tags`);
    const digests = await buildPlanRepo(builder, ctx.src, repo, size);
    const plan = async (ep: Endpoint): Promise<ProcRun> => {
      const dir = join(work, `plan-${++runCounter}`);
      await mkdir(join(dir, 'home'), { recursive: true });
      await writeFile(
        join(dir, 'images.json'),
        JSON.stringify({ [`${ep.srcHost}/${repo}`]: `${ep.dstHost}/e/n${size}` }),
      );
      const run = await runMeasured(
        process.execPath,
        [...nodeArgs, CLI, 'plan', '--auth', ep.authJson, '--images', join(dir, 'images.json'), '--json'],
        {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), ...ep.env },
          cwd: dir,
        },
      );
      // Verification for a plan: one entry per source tag, each with the digest pushed.
      let entries: Array<{ source: string; status: string; sourceDigest?: string; digest?: string }>;
      try {
        entries = (JSON.parse(run.stdout) as { entries: typeof entries }).entries;
      } catch {
        throw new Error(
          `swr-sync plan (${size} tags) printed no JSON (exit ${run.code})\nstdout:\n${run.stdout.slice(-2000)}\nstderr:\n${run.stderr.slice(-2000)}`,
        );
      }
      const wrong = entries.filter((e) => {
        const tag = e.source.split(':').pop()!;
        return e.status !== 'new' || (e.sourceDigest ?? e.digest) !== digests.get(tag);
      });
      if (entries.length !== digests.size || wrong.length > 0) {
        throw new Error(
          `VERIFICATION FAILED: plan of ${size} tags gave ${entries.length} entries (expected ${digests.size}), ${wrong.length} wrong, e.g. ${JSON.stringify(wrong[0])}`,
        );
      }
      await rm(dir, { recursive: true, force: true });
      return run;
    };
    const timed: ProcRun[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await plan(ctx.direct);
      timed.push(run);
      log(`set e ${size} tags plan ${i + 1}/${runs}: ${secs(run.wallMs)} s, ${mib(run.peakRssBytes)}`);
    }
    ctx.srcProxy.reset();
    ctx.dstProxy.reset();
    const tokensBefore = tokenCount(ctx);
    await plan(ctx.proxied);
    const requests = countRequests(ctx.srcProxy, ctx.dstProxy, tokenCount(ctx) - tokensBefore);
    ctx.srcProxy.reset();
    ctx.dstProxy.reset();
    rows.push({
      set: 'e',
      title: `plan, 1 repository × ${size} tags`,
      mode: ctx.mode,
      phase: 'plan',
      tags: digests.size,
      time: { 'swr-sync': stat(timed.map((r) => r.wallMs)) },
      rss: { 'swr-sync': stat(timed.map((r) => r.peakRssBytes)) },
      requests: { 'swr-sync': requests },
    });
  }
  return rows;
}

// ---------------------------------------------------------------- targets (issue 7)

function evaluateTargets(rows: Row[], sets: Map<SetId, DataSet>): Target[] {
  const targets: Target[] = [];
  const find = (set: string, phase: Row['phase'], mode?: RegistryAuth) =>
    rows.filter((r) => r.set === set && r.phase === phase && (mode === undefined || r.mode === mode));
  for (const r of find('a', 'cold')) {
    targets.push({
      name: `(a) cold, ${r.mode}`,
      target: '≤ 0.33× skopeo',
      measured: `${r.ratio!.toFixed(2)}×`,
      met: r.ratio! <= 0.33,
    });
  }
  for (const id of ['b', 'c'] as const) {
    for (const r of find(id, 'cold')) {
      targets.push({
        name: `(${id}) cold, ${r.mode}`,
        target: '≤ 0.90× skopeo',
        measured: `${r.ratio!.toFixed(2)}×`,
        met: r.ratio! <= 0.9,
      });
    }
  }
  for (const r of find('a', 'warm')) {
    targets.push({
      name: `(a) warm, ${r.mode}`,
      target: '≤ 0.10× skopeo',
      measured: `${r.ratio!.toFixed(2)}×`,
      met: r.ratio! <= 0.1,
    });
    const q = r.requests['swr-sync'];
    const a = sets.get('a');
    if (q !== undefined && a !== undefined) {
      const repos = new Set(a.images.map((i) => i.srcRepo)).size;
      // One request per tag (the lock file stands in for the destination), one tag list per source repository,
      // one /v2/ check per registry.
      const allowed = a.images.length + repos + 2;
      targets.push({
        name: `(a) warm requests, ${r.mode}`,
        target: `≤ 1 per tag + 1 tag list per repo + 1 /v2/ per registry (${allowed}), 401s and token fetches aside`,
        measured: `${q.src2xx + q.dst2xx} (src ${q.src2xx}, dst ${q.dst2xx}; ${q.src + q.dst - q.src2xx - q.dst2xx} 401s, ${q.token} tokens)`,
        met: q.src2xx + q.dst2xx <= allowed,
      });
    }
  }
  for (const r of find('a', 'cold')) {
    const q = r.requests['swr-sync'];
    const a = sets.get('a');
    if (q === undefined || a === undefined) continue;
    targets.push({
      name: `(a) cold source blob downloads, ${r.mode}`,
      target: `each unique blob once (${a.uniqueBlobs})`,
      measured: `${q.srcBlobGets}`,
      met: q.srcBlobGets <= a.uniqueBlobs,
    });
    const per = (q.dstBlobWrites + q.dstMounts) / a.repoBlobPairs;
    targets.push({
      name: `(a) cold destination blob requests, ${r.mode}`,
      target: `≤ 2 per new (repo, blob) (${2 * a.repoBlobPairs} for ${a.repoBlobPairs})`,
      measured: `${q.dstBlobWrites + q.dstMounts} (${q.dstMounts} mounts) = ${per.toFixed(2)} each`,
      met: per <= 2,
    });
  }
  for (const r of find('d', 'cold')) {
    const rss = r.rss['swr-sync']!.max;
    targets.push({
      name: `(d) peak RSS copying 1 GiB, ${r.mode}`,
      target: '≤ 150 MiB',
      measured: `${mib(rss)} (max of runs)`,
      met: rss <= 150 * MiB,
    });
  }
  const plans = find('e', 'plan').sort((x, y) => x.tags - y.tags);
  const biggest = plans[plans.length - 1];
  if (biggest !== undefined) {
    const rss = biggest.rss['swr-sync']!.max;
    const limit = 250 * MiB;
    targets.push({
      name: `(e) peak RSS planning ${biggest.tags - 1} tags`,
      target: '≤ 250 MiB (for 10,000 tags)',
      measured: mib(rss),
      met: rss <= limit,
    });
  }
  if (plans.length >= 2) {
    const [small, big] = [plans[0]!, plans[plans.length - 1]!];
    const tagRatio = big.tags / small.tags;
    const timeRatio = big.time['swr-sync']!.median / small.time['swr-sync']!.median;
    targets.push({
      name: `(e) planning time linear (${small.tags - 1} → ${big.tags - 1} tags)`,
      target: `time ratio ≤ tag ratio (${tagRatio.toFixed(1)}×)`,
      measured: `${timeRatio.toFixed(2)}× (${secs(small.time['swr-sync']!.median)} s → ${secs(big.time['swr-sync']!.median)} s)`,
      met: timeRatio <= tagRatio * 1.1,
    });
  }
  return targets;
}

function reqCell(q: Requests | undefined): string {
  if (q === undefined) return '–';
  return `${q.src} / ${q.dst}${q.token > 0 ? ` / ${q.token}` : ''}`;
}

function renderTable(rows: Row[]): string {
  const lines = [
    '| set | auth | run | swr-sync | skopeo | ratio | requests swr-sync (src / dst / token) | requests skopeo | peak RSS swr-sync | peak RSS skopeo |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const swr = r.time['swr-sync'];
    const sk = r.time.skopeo;
    lines.push(
      `| ${r.set}: ${r.title} | ${r.mode} | ${r.phase} | ${swr ? fmtTime(swr) : '–'} | ${sk ? fmtTime(sk) : 'n/a'} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '–'} | ${reqCell(r.requests['swr-sync'])} | ${reqCell(r.requests.skopeo)} | ${r.rss['swr-sync'] ? mib(r.rss['swr-sync'].max) : '–'} | ${r.rss.skopeo ? mib(r.rss.skopeo.max) : '–'} |`,
    );
  }
  return lines.join('\n');
}

function renderTargets(targets: Target[]): string {
  const lines = ['| target | wanted | measured | met |', '|---|---|---|---|'];
  for (const t of targets) lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**NO**'} |`);
  return lines.join('\n');
}

function renderMachine(m: Machine): string {
  return [
    `- CPU: ${m.nproc} × ${m.cpu} (\`nproc\` = ${m.nproc})`,
    `- memory: ${m.memory}`,
    `- kernel: ${m.kernel}`,
    `- Node ${m.node}; ${m.skopeo}; ${m.registry}`,
    `- storage: ${m.tmpfs}`,
    `- date: ${m.date}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.profile !== undefined) nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`];
  const started = Date.now();
  const tmpfs = existsSync('/dev/shm');
  const machine = await describeMachine(tmpfs);
  const work = await mkdtemp(join(tmpdir(), 'swr-sync-bench-'));
  const builder = await ImageBuilder.temporary({ tmpfs: true });
  const onSignal = (): void => {
    rmSync(builder.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  if (opts.crossRegion) {
    try {
      await crossRegionMain(opts, opts.crossRegion, builder, work, machine, started);
    } finally {
      await builder.dispose();
      await rm(work, { recursive: true, force: true });
    }
    return;
  }

  const primary: RegistryAuth = opts.modes.includes('none') ? 'none' : opts.modes[0]!;
  const rows: Row[] = [];
  const floors: FloorRow[] = [];
  const sets = new Map<SetId, DataSet>();
  log(
    `runs ${opts.runs}, sets ${opts.sets.join(',')}, modes ${opts.modes.join(',')} (sets b–e in mode ${primary} only)`,
  );
  try {
    // Primary mode last keeps the big sets' tmpfs usage short-lived; order otherwise as given.
    const order = [...opts.modes.filter((m) => m !== primary), primary];
    for (const mode of order) {
      const wanted = opts.sets.filter((s) => s === 'a' || mode === primary);
      if (wanted.length === 0) continue;
      log(`mode ${mode}: starting registries`);
      const ctx = await startMode(mode, work);
      try {
        for (const id of wanted) {
          if (id === 'e') {
            rows.push(...(await measurePlan(ctx, builder, opts.planSizes, opts.runs, work)));
            continue;
          }
          log(`mode ${mode}: building and pushing set ${id}`);
          const set =
            id === 'a'
              ? await buildSetA(builder, ctx.src)
              : id === 'b'
                ? await buildSetB(builder, ctx.src)
                : id === 'c'
                  ? await buildSetC(builder, ctx.src)
                  : await buildSetD(builder, ctx.src);
          sets.set(id, set);
          const measured = await measureCopySet(ctx, set, opts.runs, work);
          rows.push(...measured);
          if (opts.floor && mode === 'none' && (id === 'a' || id === 'b')) {
            floors.push(await measureFloor(ctx, set, opts.runs, work, measured[0]!.time.skopeo!.median));
          }
        }
      } finally {
        await stopMode(ctx);
      }
    }
  } finally {
    await builder.dispose();
    await rm(work, { recursive: true, force: true });
  }

  const targets = evaluateTargets(rows, sets);
  const table = renderTable(rows);
  const targetTable = renderTargets(targets);
  const elapsed = (Date.now() - started) / 1000;
  const setNotes = [...sets.values()].map(
    (s) =>
      `- (${s.id}) ${s.title}: ${s.images.length} image(s), ${s.uniqueBlobs} unique blobs (${mib(s.uniqueBytes)}), ${s.repoBlobPairs} (repository, blob) pairs to write`,
  );
  const out = [
    '## Results',
    '',
    table,
    '',
    '## Targets (issue 7)',
    '',
    targetTable,
    '',
    ...(floors.length > 0
      ? [
          '## Floor (`--floor`)',
          '',
          'swr-sync against the floor copier (`bench/floor-copier.ts`: known tags, no HEADs, no digest check, no retries, keep-alive undici pools), cold, alternating, same registries (auth none); CPU-s are utime + stime of the copying process (polled every 20 ms) and of both registry processes during the run; on 2 cores their sum over 2 bounds the wall time from below.',
          '',
          renderFloor(floors),
          '',
        ]
      : []),
  ].join('\n');
  process.stdout.write(
    `\n${out}\nbench finished in ${elapsed.toFixed(0)} s; ${targets.filter((t) => !t.met).length} of ${targets.length} targets missed\n`,
  );

  if (opts.json !== undefined) {
    await writeFile(
      opts.json,
      `${JSON.stringify({ machine, options: opts, sets: [...sets.values()].map(({ images, ...rest }) => ({ ...rest, images: images.length })), rows, targets, elapsedSeconds: elapsed }, null, 2)}\n`,
    );
    log(`wrote ${opts.json}`);
  }
  if (opts.writeResults) {
    const command = `npm run bench -- ${process.argv
      .slice(2)
      .filter((a) => a !== '--write-results')
      .join(' ')}`.trim();
    const doc = [
      '# Bench results',
      '',
      `Written by \`npm run bench -- --write-results\`. This run: \`${command}\` (${opts.runs} runs per cell, medians with min–max; ${elapsed.toFixed(0)} s in all).`,
      '',
      '## Machine',
      '',
      renderMachine(machine),
      '',
      '## Data sets',
      '',
      ...setNotes,
      `- (e) planning: one repository with ${opts.planSizes.join(' and ')} tags (+ 1 base tag) of distinct small OCI manifests; destination empty (every tag "new"); swr-sync only (skopeo has no plan)`,
      '',
      '## How to read it',
      '',
      `- Sets b–e run in auth mode \`${primary}\` only; set a in every mode given (${opts.modes.join(', ')}), both registries in that mode.`,
      "- cold: the destination registry wiped (restarted on empty storage) before every run and skopeo's blob-info cache deleted; warm: each tool copies once into a wiped registry, then reruns with nothing changed, alternating (skopeo keeps its cache, swr-sync its lock file, as each would in use).",
      '- Times are wall time of the child process; peak RSS is `VmHWM` from /proc, polled every 20 ms (the maximum over runs).',
      '- Requests: one extra run per tool and phase through loopback counting proxies (`src / dst / token`): every request including 401 challenges; token fetches go to the token servers directly.',
      '- Every destination tag is verified after every run (digest equal to the one pushed, every blob present); any mismatch aborts the bench.',
      '',
      out,
    ].join('\n');
    // The cross-region section (`--cross-region --write-results`) is kept.
    const previous = existsSync(join(ROOT, 'bench', 'RESULTS.md'))
      ? readFileSync(join(ROOT, 'bench', 'RESULTS.md'), 'utf8')
      : '';
    const crossRegion = previous.indexOf('\n## Cross-region');
    await writeFile(join(ROOT, 'bench', 'RESULTS.md'), `${doc}\n${crossRegion < 0 ? '' : previous.slice(crossRegion)}`);
    log('wrote bench/RESULTS.md');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

/** `--cross-region`: the table, the issue 17 targets, and with --write-results a section of bench/RESULTS.md. */
async function crossRegionMain(
  opts: Options,
  cr: NonNullable<Options['crossRegion']>,
  builder: ImageBuilder,
  work: string,
  machine: Machine,
  started: number,
): Promise<void> {
  log(
    `cross-region: round trips ${cr.rtts.join(', ')} ms, sets ${opts.sets.join(',')}, ${opts.runs} runs (${cr.slowRuns} after the first round trip), ${cr.cuts} cuts each side on set d`,
  );
  const { rows, sets } = await measureCrossRegion({
    rtts: cr.rtts,
    runs: opts.runs,
    slowRuns: cr.slowRuns,
    sets: opts.sets as Array<'a' | 'd'>,
    cuts: cr.cuts,
    cli: CLI,
    work,
    builder,
    log,
  });
  const targets = crossRegionTargets(rows, sets);
  const elapsed = (Date.now() - started) / 1000;
  const command = `npm run bench -- ${process.argv
    .slice(2)
    .filter((a) => a !== '--write-results')
    .join(' ')}`.trim();
  const section = [
    '## Cross-region',
    '',
    `Written by \`${command} --write-results\` (${elapsed.toFixed(0)} s; ${machine.node}, ${machine.skopeo}, ${machine.nproc} CPUs, ${machine.date}).`,
    '',
    '- Both registries (distribution 2.8, basic auth) serve TLS themselves with a private CA (swr-sync: `NODE_EXTRA_CA_CERTS`; skopeo: `--src-cert-dir` / `--dest-cert-dir`) and offer HTTP/2 by ALPN; each is reached through a loopback TCP proxy that delays every byte by half the round trip each way, the TCP and TLS handshakes included; up to 16 MiB in flight per connection and direction.',
    '- cold: the destination wiped before each round (both tools, own namespaces); warm (lock): the same images again, swr-sync with the lock file its cold run wrote, skopeo with its blob-info cache.',
    `- cuts: the 1 GiB copy with ${cr.cuts} connection cuts on each side (source downloads and destination uploads), at evenly spread byte positions; bytes are what crossed each link (TLS included), swr-sync with \`--retries 8\`, skopeo with \`--retry-times 8\`.`,
    `- ${opts.runs} runs per cell at ${cr.rtts[0]} ms, ${cr.slowRuns} at the longer round trips; medians (min–max).`,
    ...sets.map(
      (s) =>
        `- (${s.id}) ${s.title}: ${s.images.length} image(s), ${s.uniqueBlobs} unique blobs (${mib(s.uniqueBytes)})`,
    ),
    '',
    renderCrossRegion(rows),
    '',
    '| target (issue 17) | wanted | measured | met |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**NO**'} |`),
    '',
  ].join('\n');
  process.stdout.write(`\n${section}\nbench finished in ${elapsed.toFixed(0)} s\n`);
  if (opts.json !== undefined)
    await writeFile(opts.json, `${JSON.stringify({ machine, rows, targets, elapsedSeconds: elapsed }, null, 2)}\n`);
  if (opts.writeResults) {
    const file = join(ROOT, 'bench', 'RESULTS.md');
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '# Bench results\n';
    const at = existing.indexOf('\n## Cross-region');
    await writeFile(file, `${(at < 0 ? existing : existing.slice(0, at)).trimEnd()}\n\n${section}`);
    log('wrote the cross-region section of bench/RESULTS.md');
  }
}
