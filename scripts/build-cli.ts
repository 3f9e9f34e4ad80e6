/**
 * Bundles the `swr-sync` CLI into one file, lib/bin/swr-sync.js (package.json `bin`), as part of `npm run build`.
 *
 * Why: a no-change rerun of 100 tags takes ~0.3 s, and Node resolving and compiling ~300 modules (undici, zod,
 * yaml, commander...) was ~0.1 s of it; one minified file loads in about half that (issue 7, bench/RESULTS.md).
 * The tests run this file, so what ships is what is tested.
 */
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { nodeBundleOptions } from './build-action.js';

export const CLI_BUNDLE = 'lib/bin/swr-sync.js';

export async function buildCli(): Promise<void> {
  await build({
    ...nodeBundleOptions(),
    entryPoints: ['src/cli/main.ts'],
    outfile: CLI_BUNDLE,
    // Loaded on demand by `swr-sync config` only; large, so it stays a normal dependency import.
    external: ['@kubernetes/client-node'],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildCli();
