import { Option, type Command } from 'commander';
import { durationOption, integerOption, rateOption } from './options.js';
import {
  DEFAULT_RETRIES,
  DEFAULT_STALL_TIMEOUT_MS,
  DEFAULT_WORKERS,
  RETRIES_MAX,
  RETRIES_MIN,
  WORKERS_MAX,
  WORKERS_MIN,
} from '../defaults.js';

/** `--stall-timeout`: the silence after which a request or transfer is aborted and retried (sync, plan, copy). */
export function stallTimeoutOption(): Option {
  return new Option('--stall-timeout <duration>', 'abort and retry a transfer that receives nothing for this long')
    .argParser(durationOption('--stall-timeout'))
    .default(DEFAULT_STALL_TIMEOUT_MS, `${DEFAULT_STALL_TIMEOUT_MS / 1000}s`);
}

/** `--no-http2`: HTTP/1.1 only (sync, plan, copy; see client/transport.ts). */
export function http2Option(): Option {
  return new Option(
    '--no-http2',
    'speak HTTP/1.1 only: do not offer HTTP/2 to TLS registries (it carries tag lists, HEADs and manifests; blobs always go over HTTP/1.1)',
  );
}

/**
 * The flags `sync` and `plan` share (docs/cli.md), image-migrator's names and defaults first, then image-syncer's
 * names for the same things (`-p/--proc`, `--os`/`--arch`, `--config`), so their command lines run unchanged
 * (docs/migrating.md).
 */
export function addJobOptions(command: Command): Command {
  return command
    .option(
      '--auth <file>',
      'auth.json (registry or registry/namespace keys; ${VAR} expanded) (default: ./auth.json when present)',
    )
    .addOption(
      new Option(
        '--images <file>',
        'images.json (image-migrator / image-syncer rules) or a swr-mirror.json mirror spec, JSON or YAML (default: ./images.json)',
      ),
    )
    .option(
      '--config <file>',
      "image-syncer's legacy combined file { auth, images } (JSON or YAML), instead of --auth and --images",
    )
    .addOption(
      new Option('--registry <host>', 'default destination registry for empty destinations').env('DEFAULT_REGISTRY'),
    )
    .addOption(
      new Option('--namespace <ns>', 'default destination namespace for empty destinations').env('DEFAULT_NAMESPACE'),
    )
    .addOption(
      new Option(
        '-w, --workers <n>',
        'images copied at once; checks of unchanged images (HEADs only) run beside them, 4× this up to 32 (or this, when higher)',
      )
        .argParser(integerOption('--workers', WORKERS_MIN, WORKERS_MAX))
        .default(DEFAULT_WORKERS),
    )
    .addOption(
      new Option('-p, --proc <n>', "image-syncer's name for --workers").argParser(
        integerOption('--proc', WORKERS_MIN, WORKERS_MAX),
      ),
    )
    .option(
      '-r, --retries <n>',
      'retries of a failed request or blob transfer',
      integerOption('--retries', RETRIES_MIN, RETRIES_MAX),
      DEFAULT_RETRIES,
    )
    .option(
      '--platform <list>',
      'only these platforms, os/arch[/variant],... (linux/* any architecture, */arm64 any os); other images are skipped (rules may set their own)',
      (v: string, p: string[] | undefined) => [...(p ?? []), v],
    )
    .option(
      '--os <list>',
      "image-syncer's os filter: os[:os.version],... (repeatable); with --arch, both must match",
      (v: string, p: string[] | undefined) => [...(p ?? []), v],
    )
    .option(
      '--arch <list>',
      "image-syncer's architecture filter: arch[:variant],... (repeatable)",
      (v: string, p: string[] | undefined) => [...(p ?? []), v],
    )
    .option(
      '--strict',
      'refuse the whole images and auth files when any rule or entry is invalid (exit 2, nothing copied) instead of skipping that rule as image-syncer and image-migrator do; for CI',
    )
    .option('--lock <file>', 'lock file to read (and, after sync, update): destination → digests')
    .option('--shard <I/N>', 'take share I of N of the work, grouped by source repository')
    .option(
      '--timeout <duration>',
      'bound the whole run (e.g. 30m); unfinished images fail, no tag is left on an incomplete image',
      durationOption('--timeout'),
    )
    .addOption(stallTimeoutOption())
    .addOption(http2Option())
    .option(
      '--rate <n>',
      'requests per second to each registry, e.g. 10 or 0.5 (a mirror spec "registries" entry overrides it)',
      rateOption('--rate'),
    )
    .option(
      '--with-referrers',
      'also copy signatures, attestations and SBOMs: OCI 1.1 referrers and cosign tags (a mirror spec "referrers" entry overrides it)',
    )
    .option('--json', 'print results as JSON on stdout (progress stays on stderr)');
}
