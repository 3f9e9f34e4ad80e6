import { writeFileSync } from 'node:fs';

// Preloaded with `node --import` into a CLI child: records the process's peak RSS (bytes) when it exits.
const file = process.env.SWR_SYNC_RSS_REPORT;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
