import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError, SwrSyncError } from '../../errors.js';
import { printable } from '../../results/escape.js';
import { readManifests } from '../../config/manifests.js';
import {
  buildImagesConfig,
  extractContainerImages,
  parseImageTarget,
  parseNamespaceList,
  serializeImagesConfig,
  type ContainerImage,
} from '../../config/workload-images.js';
import { listClusterWorkloads } from '../../kubernetes/cluster-workloads.js';
import { loadKubeconfig, locateKubeconfig } from '../../kubernetes/kubeconfig.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { ExitCode } from '../exit-codes.js';
import { durationOption } from '../options.js';

interface ConfigFlags {
  repo: string;
  kubeconfig?: string;
  namespaces?: string;
  context?: string;
  fromManifests?: string;
  output: string;
  force?: boolean;
  skipInvalid?: boolean;
  requestTimeout: number;
}

/** Namespace kubectl gives an object whose manifest names none (with the default context). */
const MANIFEST_DEFAULT_NAMESPACE = 'default';
const INVALID_SHOWN = 50;

/**
 * `swr-sync config`: image-migrator's `config` subcommand (huawei-docs image-migrator, "Usage of image-migrator
 * config"): the images.json that moves every image the cluster's workloads run to `-t registry/namespace`. Reads the
 * cluster through its kubeconfig, or manifests with `--from-manifests`.
 */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description(
      "generate images.json from the images a cluster's workloads (or a set of manifests) run, like image-migrator config",
    )
    .requiredOption(
      '-t, --repo <registry/namespace>',
      'destination registry and namespace, e.g. swr.cn-north-4.myhuaweicloud.com/test',
    )
    .option('-k, --kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config)')
    .option('-n, --namespaces <ns1,ns2>', 'only these namespaces (default: all namespaces)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option(
      '--from-manifests <path>',
      'read Kubernetes manifests instead of a cluster: a YAML/JSON file, a directory (recursive), or - for stdin',
    )
    .option('-o, --output <file>', 'where to write images.json; - for standard output', 'images.json')
    .option('--force', 'replace the output file if it exists')
    .option('--skip-invalid', 'leave out images that are not valid references (reported on stderr) instead of failing')
    .addOption(
      new Option('--request-timeout <duration>', 'limit for each Kubernetes API request')
        .argParser(durationOption('--request-timeout'))
        .default(30_000, '30s'),
    )
    .addHelpText(
      'after',
      '\nEach image maps to <registry>/<namespace>/<last path component>:<tag> (no tag: latest; a digest stays in the\n' +
        'source and is preserved at the destination). Reads containers and initContainers of Deployments,\n' +
        'StatefulSets, DaemonSets, Jobs, CronJobs and Pods (manifests: also ReplicaSets, ReplicationControllers,\n' +
        'PodTemplates, and kind: List).\n\n' +
        'Examples:\n' +
        '  swr-sync config -t swr.cn-north-4.myhuaweicloud.com/test\n' +
        '  swr-sync config -n default,kube-system -t swr.cn-north-4.myhuaweicloud.com/test -k ~/.kube/prod\n' +
        '  helm template my-app ./chart | swr-sync config --from-manifests - -t swr.cn-north-4.myhuaweicloud.com/test -o -\n',
    )
    .action(async (flags: ConfigFlags) => {
      const target = parseImageTarget(flags.repo, '-t');
      const namespaces = flags.namespaces !== undefined ? parseNamespaceList(flags.namespaces, '-n') : undefined;
      if (flags.fromManifests !== undefined) {
        const clusterFlag =
          flags.kubeconfig !== undefined ? '-k' : flags.context !== undefined ? '--context' : undefined;
        if (clusterFlag)
          throw new SwrSyncError(
            'ERR_INVALID_ARGUMENT',
            `${clusterFlag} reads a cluster and --from-manifests reads files: give one of them`,
          );
      }
      const output = flags.output === '-' ? undefined : resolve(flags.output);
      if (output && !flags.force && (await exists(output))) {
        throw new SwrSyncError(
          'ERR_INVALID_ARGUMENT',
          `${output} already exists: pass --force to replace it, or -o another file`,
        );
      }

      const images: ContainerImage[] = [];
      const problems: string[] = [];
      const warnings: string[] = [];
      let workloads = 0;
      const add = (object: unknown, options: Parameters<typeof extractContainerImages>[1]): void => {
        const found = extractContainerImages(object, options);
        images.push(...found.images);
        problems.push(...found.problems);
        workloads += found.workloads;
      };

      let from: string;
      if (flags.fromManifests !== undefined) {
        const namespaceSet = namespaces ? new Set(namespaces) : undefined;
        const objects = await readManifests(flags.fromManifests);
        for (const { object, source } of objects) {
          add(object, {
            source,
            defaultNamespace: MANIFEST_DEFAULT_NAMESPACE,
            ...(namespaceSet ? { namespaces: namespaceSet } : {}),
          });
        }
        from = flags.fromManifests === '-' ? 'standard input' : flags.fromManifests;
      } else {
        const kubeconfig = await loadKubeconfig(locateKubeconfig(flags.kubeconfig), flags.context);
        const listed = await listClusterWorkloads({
          kubeconfig,
          ...(namespaces ? { namespaces } : {}),
          requestTimeoutMs: flags.requestTimeout,
          visit: (kind, object) => add(object, { kind }),
        });
        warnings.push(...listed.warnings);
        from = `context "${kubeconfig.context}" (${kubeconfig.server})${namespaces ? `, namespaces ${namespaces.join(', ')}` : ''}`;
      }

      const config = buildImagesConfig(images, target);
      const invalid = [...problems, ...config.invalid];
      if (invalid.length > 0 && !flags.skipInvalid) {
        const shown = invalid.slice(0, INVALID_SHOWN);
        if (invalid.length > shown.length) shown.push(`... and ${invalid.length - shown.length} more`);
        throw new ConfigError(
          `${invalid.length} invalid image${invalid.length === 1 ? '' : 's'} (nothing written; --skip-invalid writes the others):\n  ${shown.join('\n  ')}`,
        );
      }
      for (const problem of invalid) warnings.push(`skipped: ${problem}`);
      for (const entry of config.unchanged)
        warnings.push(`${entry.source} is already in ${target.registry}/${target.namespace}: left out`);
      warnings.push(...config.conflicts);
      if (config.entries.length === 0) warnings.push(`no images found in ${from} (${workloads} workloads)`);

      const text = serializeImagesConfig(config.images);
      if (output) await writeOutput(output, text, flags.force === true);
      else process.stdout.write(text);
      for (const warning of warnings) process.stderr.write(`swr-sync: warning: ${printable(warning)}\n`);
      const count = `${config.entries.length} image${config.entries.length === 1 ? '' : 's'}`;
      process.stderr.write(
        `swr-sync: ${output ? `wrote ${output}` : 'printed images.json'}: ${count} from ${workloads} workload${workloads === 1 ? '' : 's'} in ${from}\n`,
      );
      process.exitCode = ExitCode.Ok;
    });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Writes atomically; without `replace` an existing images.json (even one that appeared meanwhile) is never overwritten. */
async function writeOutput(file: string, text: string, replace: boolean): Promise<void> {
  try {
    await writeFileAtomic(file, text, { replace });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new SwrSyncError(
        'ERR_INVALID_ARGUMENT',
        `${file} already exists: pass --force to replace it, or -o another file`,
      );
    throw new ConfigError(`cannot write images.json (${code ?? (error as Error).message})`, {
      file,
      code: 'ERR_CONFIG_READ',
    });
  }
}
