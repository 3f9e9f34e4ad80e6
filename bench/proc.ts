import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Runs a child process asynchronously (the bench's own proxies and harness servers live in this process, so it
 * must never block in spawnSync) and measures its wall time and peak RSS: /proc/<pid>/status `VmHWM` polled
 * every 20 ms until exit, keeping the last value read (no GNU `time` needed).
 */
export interface ProcRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  peakRssBytes: number;
  /** CPU time (user + system) of the child, from /proc/<pid>/stat at the last poll before exit (20 ms resolution). */
  cpuMs: number;
}

export interface ProcOptions {
  env?: Record<string, string>;
  cwd?: string;
}

const POLL_MS = 20;

export function runMeasured(program: string, args: string[], opts: ProcOptions = {}): Promise<ProcRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(program, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpuMs = 0;
    const ticks = 100; // USER_HZ: /proc times are in clock ticks of 1/100 s on Linux
    const pid = child.pid;
    const sample = (): void => {
      if (pid === undefined) return;
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
        if (fields) cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
      } catch {
        // exited between polls
      }
    };
    sample();
    const timer = setInterval(sample, POLL_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.once('exit', () => {
      // Wall time ends when the process ends, not when its pipes have drained.
      const wallMs = performance.now() - start;
      clearInterval(timer);
      child.once('close', (code, signal) =>
        resolve({ code, signal, stdout, stderr, wallMs, peakRssBytes: peak, cpuMs }),
      );
    });
  });
}

/** Output of a short command (versions); async, never spawnSync. */
export async function capture(program: string, args: string[]): Promise<string> {
  try {
    const run = await runMeasured(program, args);
    return (run.stdout + run.stderr).trim();
  } catch (err) {
    return `unavailable (${err instanceof Error ? err.message : String(err)})`;
  }
}
