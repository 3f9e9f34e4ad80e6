/**
 * The cross-region part of `npm run bench` (`--cross-region`): the registries as a mirror across regions sees them.
 * Each registry serves TLS itself (a private CA: `NODE_EXTRA_CA_CERTS` for swr-sync, `--src-cert-dir` /
 * `--dest-cert-dir` for skopeo) and offers HTTP/2 by ALPN, as public registries do; it is reached through a loopback
 * TCP proxy that delays every byte by half the round trip in each direction, connection setup and TLS handshake
 * included (test/harness/latency-proxy.ts). Optionally the proxy cuts connections, and it counts the bytes that
 * crossed (TLS records), so a transfer that restarts instead of resuming shows.
 */
import { rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  makeTestCertificates,
  startLatencyProxy,
  startRegistry,
  startResumableRegistry,
  verifyImageComplete,
  type ImageBuilder,
  type LatencyProxy,
  type RunningRegistry,
  type TestCertificates,
} from '../test/harness/index.js';
import { buildSetA, buildSetD, type DataSet } from './datasets.js';
import { runMeasured, type ProcRun } from './proc.js';

const MiB = 1024 * 1024;
/** skopeo's blob-info cache when run as root (a non-root run keeps it under its fresh HOME): a cold run starts without it. */
const SKOPEO_BLOB_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';

export interface CrossRegionOptions {
  /** Round trips to measure, in ms. */
  readonly rtts: readonly number[];
  /** Timed runs per cell at the first round trip; later (longer) round trips get `slowRuns`. */
  readonly runs: number;
  readonly slowRuns: number;
  readonly sets: ReadonlyArray<'a' | 'd'>;
  /** Connection cuts on each side for the set d cut run (0: no cut run). */
  readonly cuts: number;
  readonly cli: string;
  readonly work: string;
  readonly builder: ImageBuilder;
  readonly log: (text: string) => void;
}

export interface CrossRegionRow {
  readonly rttMs: number;
  readonly set: string;
  readonly phase:
    'cold' | 'warm (lock)' | 'warm (lock), --no-http2' | 'cold, cuts' | 'cold, cuts, destination keeps partial uploads';
  readonly swr: number[];
  readonly skopeo: number[];
  /** Bytes that crossed the links (the median run's), per tool: source to client, client to destination. */
  readonly bytes?: { swr?: { down: number; up: number }; skopeo?: { down: number; up: number } };
  readonly cuts?: number;
  readonly note?: string;
}

interface Site {
  readonly rttMs: number;
  readonly src: RunningRegistry;
  readonly dst: RunningRegistry;
  readonly srcLink: LatencyProxy;
  readonly dstLink: LatencyProxy;
  readonly certs: TestCertificates;
  readonly certDir: string;
  readonly authJson: string;
  readonly authFile: string;
  readonly env: Record<string, string>;
}

async function openSite(rttMs: number, options: CrossRegionOptions, certs: TestCertificates): Promise<Site> {
  const tls = { certificate: certs.certificate, key: certs.key };
  // Upload Locations relative to the request: an absolute one would name the registry's own port, not the proxy's.
  const [src, dst] = await Promise.all([
    startRegistry({ auth: 'basic', tmpfs: true, relativeUrls: true, tls }),
    startRegistry({ auth: 'basic', tmpfs: true, relativeUrls: true, tls }),
  ]);
  const [srcLink, dstLink] = await Promise.all([
    startLatencyProxy({ target: src.host, oneWayMs: rttMs / 2 }),
    startLatencyProxy({ target: dst.host, oneWayMs: rttMs / 2 }),
  ]);
  const dir = join(options.work, `site-${rttMs}`);
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { recursive: true });
  await copyFile(certs.caPath, join(certDir, 'ca.crt'));
  const auth: Record<string, unknown> = {};
  const auths: Record<string, { auth: string }> = {};
  const env: Record<string, string> = { NODE_EXTRA_CA_CERTS: certs.caPath };
  for (const [registry, link, variable] of [
    [src, srcLink, 'BENCH_SRC_PASSWORD'],
    [dst, dstLink, 'BENCH_DST_PASSWORD'],
  ] as const) {
    // TLS verified: the private CA is trusted, nothing is marked insecure.
    auth[link.host] = { username: registry.username, password: `\${${variable}}`, insecure: false };
    env[variable] = registry.password!;
    auths[link.host] = { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') };
  }
  const authJson = join(dir, 'auth.json');
  const authFile = join(dir, 'containers-auth.json');
  await writeFile(authJson, JSON.stringify(auth, null, 2), { mode: 0o600 });
  await writeFile(authFile, JSON.stringify({ auths }, null, 2), { mode: 0o600 });
  return { rttMs, src, dst, srcLink, dstLink, certs, certDir, authJson, authFile, env };
}

async function closeSite(site: Site): Promise<void> {
  await Promise.all([site.srcLink.stop(), site.dstLink.stop()]);
  await Promise.all([site.src.stop(), site.dst.stop()]);
}

let counter = 0;

async function runTool(
  tool: 'swr' | 'skopeo',
  site: Site,
  set: DataSet,
  ns: string,
  options: CrossRegionOptions,
  lock: string,
  extra: readonly string[] = [],
): Promise<ProcRun> {
  const dir = join(options.work, `xr-run-${++counter}`);
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...site.env };
  const src = site.srcLink.host;
  const dst = site.dstLink.host;
  let run: ProcRun;
  if (tool === 'swr') {
    if (set.kind === 'sync') {
      const images: Record<string, string> = {};
      for (const repo of new Set(set.images.map((i) => i.srcRepo)))
        images[`${src}/${repo}`] = `${dst}/${ns}/${repo.split('/').pop()!}`;
      await writeFile(join(dir, 'images.json'), JSON.stringify(images));
      run = await runMeasured(
        process.execPath,
        [
          options.cli,
          'sync',
          '--auth',
          site.authJson,
          '--images',
          join(dir, 'images.json'),
          '--lock',
          lock,
          '--json',
          '--log',
          join(dir, 'log'),
          ...extra,
        ],
        { env, cwd: dir },
      );
    } else {
      const img = set.images[0]!;
      run = await runMeasured(
        process.execPath,
        [
          options.cli,
          'copy',
          `${src}/${img.srcRepo}:${img.tag}`,
          `${dst}/${ns}/${img.name}:${img.tag}`,
          '--auth',
          site.authJson,
          '--retries',
          '8',
          '--json',
        ],
        { env, cwd: dir },
      );
    }
  } else {
    const certs = ['--src-cert-dir', site.certDir, '--dest-cert-dir', site.certDir];
    if (set.kind === 'sync') {
      const repos = [...new Set(set.images.map((i) => i.srcRepo))];
      const yaml = `${JSON.stringify(src)}:\n  cert-dir: ${JSON.stringify(site.certDir)}\n  images:\n${repos.map((r) => `    ${JSON.stringify(r)}: []`).join('\n')}\n`;
      await writeFile(join(dir, 'sync.yaml'), yaml);
      run = await runMeasured(
        'skopeo',
        [
          'sync',
          '--all',
          '--src',
          'yaml',
          '--dest',
          'docker',
          '--authfile',
          site.authFile,
          '--dest-cert-dir',
          site.certDir,
          join(dir, 'sync.yaml'),
          `${dst}/${ns}`,
        ],
        { env, cwd: dir },
      );
    } else {
      const img = set.images[0]!;
      run = await runMeasured(
        'skopeo',
        [
          'copy',
          '--all',
          '--authfile',
          site.authFile,
          ...certs,
          '--retry-times',
          '8',
          `docker://${src}/${img.srcRepo}:${img.tag}`,
          `docker://${dst}/${ns}/${img.name}:${img.tag}`,
        ],
        { env, cwd: dir },
      );
    }
  }
  if (run.code !== 0)
    throw new Error(
      `${tool} failed (exit ${run.code ?? run.signal}) at ${site.rttMs} ms on set ${set.id}\nstdout:\n${run.stdout.slice(-2000)}\nstderr:\n${run.stderr.slice(-3000)}`,
    );
  await rm(dir, { recursive: true, force: true });
  return run;
}

async function verify(site: Site, set: DataSet, ns: string, what: string): Promise<void> {
  const problems: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < set.images.length) {
      const img = set.images[next++]!;
      const got = await verifyImageComplete(site.dst, `${ns}/${img.name}`, img.tag);
      if (got.digest !== img.digest || got.missing.length > 0)
        problems.push(`${ns}/${img.name}:${img.tag}: ${got.digest || 'absent'}, missing ${got.missing.length}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (problems.length > 0) throw new Error(`VERIFICATION FAILED after ${what}: ${problems.slice(0, 10).join('; ')}`);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Evenly spread cut positions for a transfer of `size` bytes: `count` cuts, the last well before the end. */
function cutPositions(size: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round((size * (i + 1)) / (count + 1)));
}

async function measureSite(
  site: Site,
  sets: Map<'a' | 'd', DataSet>,
  runs: number,
  options: CrossRegionOptions,
): Promise<CrossRegionRow[]> {
  const rows: CrossRegionRow[] = [];
  const tag = `${site.rttMs}ms`;
  for (const [id, set] of sets) {
    const cold: Record<'swr' | 'skopeo', number[]> = { swr: [], skopeo: [] };
    const coldBytes: Record<'swr' | 'skopeo', Array<{ down: number; up: number }>> = { swr: [], skopeo: [] };
    const locks: string[] = [];
    for (let i = 0; i < runs; i++) {
      // Both tools of a round start from an empty registry, each in its own namespace (no blob of one is in the
      // other's repositories); the last round's namespaces are what the warm runs find.
      await site.dst.wipe();
      for (const tool of i % 2 === 0 ? (['swr', 'skopeo'] as const) : (['skopeo', 'swr'] as const)) {
        if (tool === 'skopeo') rmSync(SKOPEO_BLOB_CACHE, { force: true });
        const ns = `${id}-${tool}-c${i}`;
        const lock = join(options.work, `${tag}-${ns}.lock.json`);
        site.srcLink.resetCounters();
        site.dstLink.resetCounters();
        const run = await runTool(tool, site, set, ns, options, lock);
        coldBytes[tool].push({ down: site.srcLink.bytes.down, up: site.dstLink.bytes.up });
        await verify(site, set, ns, `${tool} cold ${tag}`);
        cold[tool].push(run.wallMs);
        if (tool === 'swr') locks.push(lock);
        options.log(`cross-region ${tag} set ${id} cold ${i + 1}/${runs} ${tool}: ${(run.wallMs / 1000).toFixed(2)} s`);
      }
    }
    rows.push({
      rttMs: site.rttMs,
      set: set.title,
      phase: 'cold',
      swr: cold.swr,
      skopeo: cold.skopeo,
      bytes: { swr: coldBytes.swr[0]!, skopeo: coldBytes.skopeo[0]! },
    });
    if (set.kind === 'sync') {
      // Warm: nothing changed since the last cold run of each tool (its destination namespace is still there, as is
      // swr-sync's lock file and skopeo's blob-info cache).
      // swr-sync also runs with --no-http2, to show what HTTP/2 is worth (the reads that are not blobs multiplexed).
      const warm: Record<'swr' | 'swrHttp1' | 'skopeo', number[]> = { swr: [], swrHttp1: [], skopeo: [] };
      const last = runs - 1;
      for (let i = 0; i < runs; i++) {
        const order = i % 2 === 0 ? (['swr', 'swrHttp1', 'skopeo'] as const) : (['skopeo', 'swrHttp1', 'swr'] as const);
        for (const variant of order) {
          const tool = variant === 'skopeo' ? 'skopeo' : 'swr';
          const ns = `${id}-${tool}-c${last}`;
          const lock = join(options.work, `${tag}-${ns}.lock.json`);
          const run = await runTool(tool, site, set, ns, options, lock, variant === 'swrHttp1' ? ['--no-http2'] : []);
          warm[variant].push(run.wallMs);
          options.log(
            `cross-region ${tag} set ${id} warm ${i + 1}/${runs} ${variant}: ${(run.wallMs / 1000).toFixed(2)} s`,
          );
        }
      }
      rows.push({ rttMs: site.rttMs, set: set.title, phase: 'warm (lock)', swr: warm.swr, skopeo: warm.skopeo });
      rows.push({
        rttMs: site.rttMs,
        set: set.title,
        phase: 'warm (lock), --no-http2',
        swr: warm.swrHttp1,
        skopeo: warm.skopeo,
      });
    }
    if (set.kind === 'copy' && options.cuts > 0) {
      const size = set.uniqueBytes;
      const cut: Record<'swr' | 'skopeo', number[]> = { swr: [], skopeo: [] };
      const bytes: Record<'swr' | 'skopeo', { down: number; up: number } | undefined> = {
        swr: undefined,
        skopeo: undefined,
      };
      const notes: string[] = [];
      for (const tool of ['swr', 'skopeo'] as const) {
        await site.dst.wipe();
        rmSync(SKOPEO_BLOB_CACHE, { force: true });
        site.srcLink.resetCounters();
        site.dstLink.resetCounters();
        site.srcLink.setCuts({ direction: 'down', at: cutPositions(size, options.cuts) });
        site.dstLink.setCuts({ direction: 'up', at: cutPositions(size, options.cuts) });
        const ns = `${id}-${tool}-cut`;
        try {
          const run = await runTool(tool, site, set, ns, options, join(options.work, `${tag}-${ns}.lock.json`));
          await verify(site, set, ns, `${tool} with cuts ${tag}`);
          cut[tool].push(run.wallMs);
          bytes[tool] = { down: site.srcLink.bytes.down, up: site.dstLink.bytes.up };
          options.log(
            `cross-region ${tag} set ${id} ${options.cuts} cuts each side ${tool}: ${(run.wallMs / 1000).toFixed(2)} s, down ${(bytes[tool]!.down / MiB).toFixed(0)} MiB, up ${(bytes[tool]!.up / MiB).toFixed(0)} MiB`,
          );
        } catch (error) {
          notes.push(
            `${tool === 'swr' ? 'swr-sync' : 'skopeo'} failed: ${
              String(error)
                .split('\n')
                .find((l) => /error|fail/i.test(l))
                ?.slice(0, 160) ?? 'see log'
            }`,
          );
          options.log(`cross-region ${tag} set ${id} cuts ${tool} FAILED: ${String(error).slice(0, 2000)}`);
        } finally {
          site.srcLink.setCuts(undefined);
          site.dstLink.setCuts(undefined);
        }
      }
      rows.push({
        rttMs: site.rttMs,
        set: set.title,
        phase: 'cold, cuts',
        swr: cut.swr,
        skopeo: cut.skopeo,
        cuts: options.cuts,
        bytes: { ...(bytes.swr ? { swr: bytes.swr } : {}), ...(bytes.skopeo ? { skopeo: bytes.skopeo } : {}) },
        ...(notes.length ? { note: notes.join('; ') } : {}),
      });
      rows.push(await cutsIntoResumingRegistry(site, set, options));
    }
  }
  return rows;
}

/**
 * The same cut copy of set d into a destination that keeps what it received of a cut upload (the harness's
 * resumable registry, behind the same kind of link): distribution 2.8 loses the session instead (docs/transfers.md),
 * so only here can an upload resume. swr-sync only: skopeo's copy does not survive a cut (see the row above).
 */
async function cutsIntoResumingRegistry(
  site: Site,
  set: DataSet,
  options: CrossRegionOptions,
): Promise<CrossRegionRow> {
  const registry = await startResumableRegistry();
  const link = await startLatencyProxy({
    target: registry.url,
    oneWayMs: site.rttMs / 2,
    tls: { certificate: site.certs.certificate, key: site.certs.key },
  });
  const phase = 'cold, cuts, destination keeps partial uploads' as CrossRegionRow['phase'];
  try {
    const auth = join(options.work, `auth-resuming-${site.rttMs}.json`);
    await writeFile(
      auth,
      JSON.stringify({ ...JSON.parse(await readFile(site.authJson, 'utf8')), [link.host]: { insecure: false } }),
      { mode: 0o600 },
    );
    const size = set.uniqueBytes;
    site.srcLink.resetCounters();
    site.srcLink.setCuts({ direction: 'down', at: cutPositions(size, options.cuts) });
    link.setCuts({ direction: 'up', at: cutPositions(size, options.cuts) });
    const img = set.images[0]!;
    const dir = join(options.work, `xr-resuming-${site.rttMs}`);
    await mkdir(join(dir, 'home'), { recursive: true });
    const run = await runMeasured(
      process.execPath,
      [
        options.cli,
        'copy',
        `${site.srcLink.host}/${img.srcRepo}:${img.tag}`,
        `${link.host}/resuming/${img.name}:${img.tag}`,
        '--auth',
        auth,
        '--retries',
        '8',
        '--json',
      ],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home'), ...site.env },
        cwd: dir,
      },
    );
    const stored = registry.manifests.get(`resuming/${img.name}:${img.tag}`);
    const ok =
      run.code === 0 &&
      stored !== undefined &&
      `sha256:${createHash('sha256').update(stored).digest('hex')}` === img.digest;
    options.log(
      `cross-region ${site.rttMs}ms set ${set.id} ${options.cuts} cuts each side, resuming destination, swr: ${ok ? `${(run.wallMs / 1000).toFixed(2)} s, down ${(site.srcLink.bytes.down / MiB).toFixed(0)} MiB, up ${(link.bytes.up / MiB).toFixed(0)} MiB` : `FAILED ${run.stderr.slice(-1500)}`}`,
    );
    return {
      rttMs: site.rttMs,
      set: set.title,
      phase,
      cuts: options.cuts,
      swr: ok ? [run.wallMs] : [],
      skopeo: [],
      ...(ok ? { bytes: { swr: { down: site.srcLink.bytes.down, up: link.bytes.up } } } : {}),
      note: ok ? 'skopeo not run (its copy fails on the first cut)' : 'swr-sync failed',
    };
  } finally {
    site.srcLink.setCuts(undefined);
    await link.stop();
    await registry.stop();
  }
}

/** Runs the cross-region bench; returns its rows (set sizes are in the returned sets). */
export async function measureCrossRegion(
  options: CrossRegionOptions,
): Promise<{ rows: CrossRegionRow[]; sets: DataSet[] }> {
  const certs = await makeTestCertificates();
  const rows: CrossRegionRow[] = [];
  const built: DataSet[] = [];
  for (const [index, rttMs] of options.rtts.entries()) {
    options.log(`cross-region: ${rttMs} ms round trip, TLS`);
    const site = await openSite(rttMs, options, certs);
    try {
      const sets = new Map<'a' | 'd', DataSet>();
      for (const id of options.sets) {
        const set =
          id === 'a' ? await buildSetA(options.builder, site.src) : await buildSetD(options.builder, site.src);
        sets.set(id, set);
        if (index === 0) built.push(set);
      }
      rows.push(
        ...(await measureSite(site, sets, index === 0 ? options.runs : options.slowRuns, {
          ...options,
          cuts: index === 0 ? options.cuts : 0,
        })),
      );
    } finally {
      await closeSite(site);
    }
  }
  return { rows, sets: built };
}

const secs = (ms: number): string => (ms / 1000).toFixed(2);

/** The cross-region table: medians (min–max), the ratio of medians, bytes over the links. */
export function renderCrossRegion(rows: readonly CrossRegionRow[]): string {
  const range = (xs: readonly number[]): string =>
    xs.length === 0
      ? 'failed'
      : xs.length === 1
        ? `${secs(xs[0]!)} s`
        : `${secs(median(xs))} s (${secs(Math.min(...xs))}–${secs(Math.max(...xs))})`;
  const size = (b?: { down: number; up: number }): string =>
    b ? `${(b.down / MiB).toFixed(0)} / ${(b.up / MiB).toFixed(0)} MiB` : '–';
  const lines = [
    '| round trip | set | run | swr-sync | skopeo | ratio | bytes down / up swr-sync | bytes down / up skopeo |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ratio = r.swr.length && r.skopeo.length ? `${(median(r.swr) / median(r.skopeo)).toFixed(3)}×` : '–';
    const skopeo = r.phase === 'cold, cuts, destination keeps partial uploads' ? 'not run' : range(r.skopeo);
    lines.push(
      `| ${r.rttMs} ms | ${r.set} | ${r.phase}${r.cuts ? ` (${r.cuts} each side)` : ''} | ${range(r.swr)} | ${skopeo} | ${ratio} | ${size(r.bytes?.swr)} | ${size(r.bytes?.skopeo)} |${r.note ? ` ${r.note}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** Targets of issue 17 at the first round trip measured (50 ms). */
export function crossRegionTargets(
  rows: readonly CrossRegionRow[],
  sets: readonly DataSet[],
): Array<{ name: string; target: string; measured: string; met: boolean }> {
  const out: Array<{ name: string; target: string; measured: string; met: boolean }> = [];
  const first = rows[0]?.rttMs;
  for (const r of rows.filter((x) => x.rttMs === first)) {
    const ratio = r.swr.length && r.skopeo.length ? median(r.swr) / median(r.skopeo) : NaN;
    if (r.phase === 'cold' && /100 images/.test(r.set))
      out.push({
        name: `(a) cold at ${first} ms`,
        target: '≤ 0.04× skopeo',
        measured: `${ratio.toFixed(3)}×`,
        met: ratio <= 0.04,
      });
    if (r.phase === 'warm (lock)')
      out.push({
        name: `(a) warm with the lock at ${first} ms`,
        target: '≤ 0.025× skopeo',
        measured: `${ratio.toFixed(3)}×`,
        met: ratio <= 0.025,
      });
    if (r.phase === 'cold, cuts' || r.phase === 'cold, cuts, destination keeps partial uploads') {
      const size = sets.find((s) => s.kind === 'copy')?.uniqueBytes ?? NaN;
      const b = r.bytes?.swr;
      const down = b ? b.down / size : NaN;
      const up = b ? b.up / size : NaN;
      out.push({
        name: `(d) ${r.cuts} cuts each side, swr-sync, ${r.phase === 'cold, cuts' ? 'into distribution 2.8' : 'into a registry that keeps partial uploads'}`,
        target: '≤ 1.05× the image downloaded and uploaded',
        measured: b ? `${down.toFixed(3)}× down, ${up.toFixed(3)}× up` : 'failed',
        met: down <= 1.05 && up <= 1.05,
      });
    }
  }
  return out;
}
