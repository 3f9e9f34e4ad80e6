import { readFileSync, writeFileSync } from 'node:fs';

// Preloaded with `node --import` into a CLI child: records the process's peak RSS (bytes) when it exits.
// VmHWM (Linux) is this process image's own high-water mark; getrusage's ru_maxrss is not: it keeps the peak of the
// process before execve, i.e. of the test process that forked the child (with all its fixtures in memory).
const file = process.env.SWR_SYNC_RSS_REPORT;
function peakRss(): number {
  try {
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
if (file) process.on('exit', () => writeFileSync(file, String(peakRss())));
