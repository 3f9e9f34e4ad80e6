/**
 * Builds the GitHub Action bundle: src/action/main.ts and everything it imports (the engine, @actions/core,
 * @actions/github) into ONE committed ESM file, dist/index.js, that action.yml runs on the `node24` runtime.
 *
 *   npm run build:action          # writes dist/index.js and prints its size
 *
 * test/action/dist.test.ts rebuilds with the same options in memory and fails when the committed file differs, so
 * keep every option here (esbuild output is deterministic for identical inputs and options).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

/** The repository root (this file runs compiled, from lib/scripts/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ENTRY = 'src/action/main.ts';
export const OUTFILE = 'dist/index.js';

/**
 * zod's classic API re-exports every message locale (`z.locales`, ~260 KB minified) though only English, which
 * zod configures through its own import of locales/en.js, is ever used: the bundle gets English only.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      // A fixed name (no absolute path) keeps the output independent of where the repository is checked out.
      return { path: 'english-only', namespace: 'zod-locales', pluginData: resolve(args.resolveDir, '../locales') };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: args.pluginData as string,
      loader: 'js',
    }));
  },
};

/** What the action bundle and the CLI bundle (scripts/build-cli.ts) share: one minified ESM file for Node. */
export function nodeBundleOptions(): BuildOptions & { absWorkingDir: string } {
  return {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    // The runner's node24, and Node 20 where the tests run.
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    // CommonJS dependencies (undici, tunnel) require() Node's built-in modules.
    banner: {
      js: "import { createRequire as __swrSyncCreateRequire } from 'node:module'; const require = __swrSyncCreateRequire(import.meta.url);",
    },
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  };
}

export function buildOptions(): BuildOptions & { absWorkingDir: string } {
  return {
    ...nodeBundleOptions(),
    entryPoints: [ENTRY],
    outfile: OUTFILE,
    // @actions/github and @actions/http-client each pin their own undici 6 (two more copies of ~500 KB): they use
    // fetch and ProxyAgent, which the engine's undici 7 has with the same API, so the bundle holds one undici.
    alias: { undici: './node_modules/undici' },
    metafile: true,
  };
}

/** Modules the action must not pull in: the CLI's terminal display and argument parser. */
export const FORBIDDEN_INPUTS = [/node_modules\/log-update\//, /node_modules\/commander\//, /^src\/cli\//];

export async function buildAction(): Promise<{ bytes: number; inputs: string[] }> {
  const result = await build(buildOptions());
  const inputs = Object.keys(result.metafile?.inputs ?? {});
  const forbidden = inputs.filter((f) => FORBIDDEN_INPUTS.some((re) => re.test(f)));
  if (forbidden.length > 0) throw new Error(`the action bundle must not include ${forbidden.join(', ')}`);
  return { bytes: readFileSync(resolve(ROOT, OUTFILE)).length, inputs };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { bytes, inputs } = await buildAction();
  process.stdout.write(`${OUTFILE}: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes) from ${inputs.length} modules\n`);
}
