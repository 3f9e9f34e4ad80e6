import type { Command } from 'commander';
import { RegistryClient, Transport } from '../../client/registry-client.js';
import { CopyEngine } from '../../engine/copy-engine.js';
import { parsePlatforms } from '../../oci/platform.js';
import { parseReference } from '../../oci/reference.js';
import { formatImageLine } from '../../results/format.js';
import { loadCopyCredentials } from '../credentials.js';
import { ExitCode } from '../exit-codes.js';
import { durationOption, integerOption } from '../options.js';

interface CopyFlags {
  platform?: string[];
  auth?: string;
  srcAuthfile?: string;
  destAuthfile?: string;
  insecure?: boolean;
  retries: number;
  json?: boolean;
  timeout?: number;
  stallTimeout: number;
}

/** `swr-sync copy SRC DST`: one reference (tag or digest) with everything under it. */
export function registerCopy(program: Command): void {
  program
    .command('copy')
    .description('copy one image (tag or digest, single or multi-arch, or an OCI artifact) from one registry to another')
    .argument('<source>', 'source reference: registry/path[:tag][@digest] (Docker Hub defaults apply)')
    .argument('<destination>', 'destination reference; without a tag, the source tag is used')
    .option('--platform <list>', 'copy only these platforms of an index, os/arch[/variant],... (writes a new index: its digest differs)', collect, undefined)
    .option('--auth <file>', 'auth.json as image-migrator / image-syncer read it (registry or registry/namespace keys)')
    .option('--src-authfile <file>', 'docker config / skopeo authfile with source credentials')
    .option('--dest-authfile <file>', 'docker config / skopeo authfile with destination credentials')
    .option('--insecure', 'allow plain HTTP and unverified TLS for both registries')
    .option('--retries <n>', 'retries of a failed request or blob transfer', integerOption('--retries', 0, 20), 3)
    .option('--timeout <duration>', 'bound the whole copy (e.g. 10m); no tag is left on an incomplete image', durationOption('--timeout'))
    .option('--stall-timeout <duration>', 'abort and retry a transfer that receives nothing for this long', durationOption('--stall-timeout'), 60_000)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nCredentials are never taken on the command line: use --auth, the authfiles, or ~/.docker/config.json.\n')
    .action(async (srcText: string, dstText: string, flags: CopyFlags) => {
      const src = parseReference(srcText);
      const dst = parseReference(dstText, { defaultTag: false });
      const platforms = flags.platform ? parsePlatforms(flags.platform) : undefined;
      const credentials = await loadCopyCredentials(flags);
      const insecure = flags.insecure ? () => true : undefined;
      const transport = new Transport({ stallTimeoutMs: flags.stallTimeout });
      const common = {
        transport,
        retry: { retries: flags.retries },
        ...(insecure ? { insecure } : {}),
        ...(flags.timeout !== undefined ? { signal: AbortSignal.timeout(flags.timeout) } : {}),
      };
      const source = new RegistryClient({ credentials: credentials.source, ...common });
      const destination = new RegistryClient({ credentials: credentials.destination, ...common });
      try {
        const engine = new CopyEngine({ source, destination });
        const result = await engine.copy(src, dst, platforms ? { platforms } : {});
        process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatImageLine(result)}\n`);
        process.exitCode = result.status === 'failed' ? ExitCode.Failed : ExitCode.Ok;
      } finally {
        await transport.close();
      }
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
