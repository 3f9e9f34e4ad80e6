import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import { RegistryLimiter } from '../../client/rate-limit.js';
import { applyArchiveOutcomes } from '../../results/archive-outcomes.js';
import { Transport } from '../../client/registry-client.js';
import { layoutSourceProblem } from '../../store/layout-files.js';
import { StoreRouter } from '../../store/store-router.js';
import { CopyEngine } from '../../engine/copy-engine.js';
import { ReferrerCopier } from '../../engine/referrer-copier.js';
import { parsePlatforms } from '../../oci/platform.js';
import { deadlineSignal, InvalidReferenceError, isInputErrorCode, SwrSyncError } from '../../errors.js';
import { parseReference, refNameProblem, sourceIndexOf, tagProblem, type Reference } from '../../oci/reference.js';
import { formatImageLine } from '../../results/format.js';
import { printable } from '../../results/escape.js';
import { abortReason } from '../../engine/sync-runner.js';
import { Interrupt } from '../interrupt.js';
import { loadCopyCredentials } from '../credentials.js';
import { ExitCode } from '../exit-codes.js';
import { byteRateOption, durationOption, integerOption, rateOption } from '../options.js';
import { http2Option, stallTimeoutOption } from '../job-options.js';
import { DEFAULT_RETRIES, RETRIES_MAX, RETRIES_MIN } from '../../defaults.js';

interface CopyFlags {
  platform?: string[];
  auth?: string;
  srcAuthfile?: string;
  destAuthfile?: string;
  insecure?: boolean;
  retries: number;
  json?: boolean;
  strict?: boolean;
  timeout?: number;
  stallTimeout: number;
  /** `--no-http2` sets it false. */
  http2: boolean;
  rate?: number;
  bandwidth?: number;
  withReferrers?: boolean;
}

/** `swr-sync copy SRC DST`: one reference (tag or digest) with everything under it. */
export function registerCopy(program: Command): void {
  program
    .command('copy')
    .description(
      'copy one image (tag or digest, single or multi-arch, or an OCI artifact) between registries and OCI layouts',
    )
    .argument(
      '<source>',
      'source reference: registry/path[:tag][@digest] (Docker Hub defaults apply), oci:DIR[:REF|:@N] or oci-archive:FILE[:REF|:@N]',
    )
    .argument(
      '<destination>',
      'destination reference (registry, oci:DIR[:REF] or oci-archive:FILE[:REF]); without a tag, the source tag is used',
    )
    .option(
      '--platform <list>',
      'copy only these platforms of an index, os/arch[/variant],... (writes a new index: its digest differs)',
      collect,
      undefined,
    )
    .option('--auth <file>', 'auth.json as image-migrator / image-syncer read it (registry or registry/namespace keys)')
    .option('--src-authfile <file>', 'docker config / skopeo authfile with source credentials')
    .option('--dest-authfile <file>', 'docker config / skopeo authfile with destination credentials')
    .option('--insecure', 'allow plain HTTP and unverified TLS for both registries')
    .option(
      '--retries <n>',
      'retries of a failed request or blob transfer',
      integerOption('--retries', RETRIES_MIN, RETRIES_MAX),
      DEFAULT_RETRIES,
    )
    .option(
      '--timeout <duration>',
      'bound the whole copy (e.g. 10m); no tag is left on an incomplete image',
      durationOption('--timeout'),
    )
    .addOption(stallTimeoutOption())
    .addOption(http2Option())
    .option('--rate <n>', 'requests per second to each registry, e.g. 10 or 0.5', rateOption('--rate'))
    .option(
      '--bandwidth <bytes/s>',
      'blob bytes per second to and from each registry: 20M, 512k (powers of 1000), 1.5MiB (powers of 1024)',
      byteRateOption('--bandwidth'),
    )
    .option(
      '--with-referrers',
      'also copy what refers to the image: signatures, attestations, SBOMs (OCI 1.1 referrers and cosign tags)',
    )
    .option('--json', 'print the result as JSON')
    .option(
      '--strict',
      'read --auth strictly: an unknown field is an error instead of a warning (as image-syncer reads it)',
    )
    .addHelpText(
      'after',
      '\nCredentials are never taken on the command line: use --auth, the authfiles, or ~/.docker/config.json.\n',
    )
    .action(async (srcText: string, dstText: string, flags: CopyFlags) => {
      const src = parseReference(srcText);
      const dst = copyDestination(src, parseReference(dstText, { defaultTag: false }), dstText);
      if (src.isLayout) {
        // A layout that is not there is a typo in the command, not a failed copy: said before anything is sent
        // (after the references' own rules, which need no disk).
        const problem = await layoutSourceProblem(src.registry as 'oci' | 'oci-archive', src.repository);
        if (problem) throw new SwrSyncError('ERR_INVALID_ARGUMENT', `source ${srcText}: ${problem}`);
      }
      const platforms = flags.platform ? parsePlatforms(flags.platform) : undefined;
      const credentials = await loadCopyCredentials(flags);
      const insecure = flags.insecure ? () => true : undefined;
      const transport = new Transport({ stallTimeoutMs: flags.stallTimeout, http2: flags.http2 });
      const limiter = new RegistryLimiter({
        defaults: {
          ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
          ...(flags.bandwidth !== undefined ? { bandwidth: flags.bandwidth } : {}),
        },
      });
      limiter.onNotice((notice) => process.stderr.write(`swr-sync: pacing: ${printable(notice.message)}\n`));
      // Ctrl-C / SIGTERM cut the copy short (no tag written, temporary files removed) and exit with 130 / 143.
      const interrupt = new Interrupt();
      const signal =
        flags.timeout !== undefined ? deadlineSignal(interrupt.signal, flags.timeout, '--timeout') : interrupt.signal;
      setMaxListeners(0, signal);
      const common = {
        transport,
        limiter,
        retry: { retries: flags.retries },
        ...(insecure ? { insecure } : {}),
        signal,
      };
      const source = StoreRouter.open('source', { credentials: credentials.source, ...common });
      const destination = StoreRouter.open('destination', { credentials: credentials.destination, ...common });
      try {
        const engine = new CopyEngine({ source, destination, signal });
        const copied = await engine.copy(src, dst, platforms ? { platforms } : {});
        const referred = flags.withReferrers
          ? await new ReferrerCopier({ engine, source, destination }).copy(src, dst, copied)
          : copied;
        // An oci-archive destination is written now, from the staging layout the copy filled.
        const [result] = applyArchiveOutcomes(
          [referred],
          signal.aborted ? await destination.abandon(abortReason(signal)) : await destination.finish(),
        );
        process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatImageLine(result!)}\n`);
        // A reference that only reading the layout shows to be ambiguous (two images, no REF) is still bad input.
        process.exitCode = interrupt.exitCode(
          result!.status === 'failed'
            ? isInputErrorCode(result!.error?.code)
              ? ExitCode.InvalidInput
              : ExitCode.Failed
            : ExitCode.Ok,
        );
      } finally {
        interrupt.dispose();
        await destination.discard();
        await transport.close();
      }
    });
}

/**
 * The destination as the engine writes it, with the rules OCI layouts add. A layout records an image under a ref
 * name, so a layout destination needs one: its own `:REF`, else the source's tag. A registry destination without a
 * tag takes the source layout's REF when it is a valid tag, and `latest` for a layout named without REF (skopeo's
 * default for a docker reference).
 */
function copyDestination(src: Reference, dst: Reference, dstText: string): Reference {
  if (dst.isLayout) {
    if (dst.tag !== undefined) {
      if (sourceIndexOf(dst.tag) !== undefined) {
        throw new InvalidReferenceError(
          dstText,
          `a source index (${dst.tag}) selects an image to read; a destination needs a ref name: write ${dst.name}:REF`,
        );
      }
      return dst;
    }
    const inherited = src.tag !== undefined && sourceIndexOf(src.tag) === undefined ? src.tag : undefined;
    if (inherited === undefined) {
      throw new InvalidReferenceError(
        dstText,
        `name the image in the layout: write ${dst.name}:REF (the source ${src} has no tag to reuse, and index.json lists images by ref name)`,
      );
    }
    const problem = refNameProblem(inherited);
    if (problem)
      throw new InvalidReferenceError(
        dstText,
        `the source tag "${inherited}" is not a layout ref name (${problem}): write ${dst.name}:REF`,
      );
    return dst.withTag(inherited);
  }
  if (!src.isLayout || dst.tag !== undefined || dst.digest !== undefined) return dst;
  if (src.tag === undefined) return dst.withTag('latest');
  if (sourceIndexOf(src.tag) !== undefined || tagProblem(src.tag) !== undefined) {
    throw new InvalidReferenceError(
      dstText,
      `give the destination a tag: the source's REF "${src.tag}" is not a registry tag`,
    );
  }
  return dst;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
