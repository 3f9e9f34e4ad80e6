import { setFlagsFromString } from 'node:v8';

/**
 * The young-generation cap, in MiB, that swr-sync's processes run with on V8 12 and later (Node 22: 8 by default,
 * Node 24: 32). Chromium and WebView2 document this flag as their renderer's memory setting.
 */
export const YOUNG_GENERATION_CAP_MIB = 4;

const FLAG = 'scavenger-max-new-space-capacity-mb';

/**
 * Keeps the dead buffers of a blob stream bounded on every Node version: called once by the CLI and the Action
 * before any transfer, never by the library (a host application's heap is its own business).
 *
 * Every socket or file read hands JavaScript a new 64 KiB buffer whose memory lives outside the V8 heap; a
 * streamed blob drops each one once it is hashed and sent. V8 frees them in a young-generation collection, which
 * it forces once young external bytes reach twice its maximum young-generation capacity. V8 13 (Node 24, the
 * Action's runtime) raised that capacity from 8 to 32 MiB, so about 64 MiB of spent buffers piled up before a
 * collection: copying a 1 GiB layer peaked at 167 MiB of RSS on Node 24 against 126 MiB on Node 20 and 22. V8
 * reads the flag each time it decides, so setting it at start-up brings a collection every 8 MiB of spent buffers
 * (about 70 per GiB streamed, each well under a millisecond; the 1 GiB copy then peaks near 122 MiB on Node 24).
 * Node 20's V8 has no such flag (its cap is 16 MiB), so nothing is set there; a value the user gave with `--scavenger-max-new-space-capacity-mb` (in `NODE_OPTIONS` or
 * on the command line) is left alone.
 */
export function boundYoungGeneration(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): boolean {
  const v8Major = Number(process.versions.v8.split('.')[0]);
  if (!(v8Major >= 12)) return false;
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) =>
    arg.replace(/_/g, '-').startsWith(`--${FLAG}`),
  );
  if (given) return false;
  setFlagsFromString(`--${FLAG}=${YOUNG_GENERATION_CAP_MIB}`);
  return true;
}
