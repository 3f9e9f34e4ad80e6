import { Option, type Command } from 'commander';
import { SwrSyncError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, requireRule } from '../../kubernetes/names.js';
import {
  formatPullSecret,
  pullSecretManifest,
  REGISTRY_HOST,
  type PullSecretFormat,
  type RegistryLogin,
} from '../../kubernetes/pull-secret.js';
import { ACCESS_KEY_TEXT, isAccessKey, PROJECT_NAME, swrRegistryLogin } from '../../swr/pull-secret.js';
import { ExitCode } from '../exit-codes.js';
import { readSecretFromEnv, readSecretFromFile, readSecretFromStdin } from '../read-secret.js';

interface PullSecretFlags {
  secretName: string;
  namespace?: string;
  swrAddress?: string;
  projectName?: string;
  akEnv: string;
  ak?: string;
  skEnv: string;
  skStdin?: boolean;
  skFile?: string;
  registry?: string;
  privateUser?: string;
  privatePasswordEnv?: string;
  privatePasswordStdin?: boolean;
  privatePasswordFile?: string;
  outputFilePath?: string;
  format?: PullSecretFormat;
  sk?: string;
  privatePassword?: string;
}

/**
 * `swr-sync pull-secret`: what CCI's `imagepull-secret-generator` writes (huawei-docs
 * cce-bursting-images-and-image-replacement), a `kubernetes.io/dockerconfigjson` Secret manifest holding an SWR
 * login derived from AK/SK and/or a third-party registry login, for `kubectl apply -f`. Unlike the generator,
 * the SK and the password never come from argv: environment variables, files or stdin only (docs/cli.md).
 */
export function registerPullSecret(program: Command): void {
  program
    .command('pull-secret')
    .description(
      "write an image pull Secret (kubernetes.io/dockerconfigjson) for SWR (from AK/SK) and/or a third-party registry, like CCI's imagepull-secret-generator",
    )
    .requiredOption('--secret-name <name>', 'Secret name (Kubernetes DNS subdomain)')
    .option(
      '--namespace <ns>',
      'metadata.namespace (Kubernetes DNS label); without it kubectl applies to -n or the context namespace',
    )
    .option(
      '--swr-address <host>',
      'SWR registry host, e.g. swr.cn-north-4.myhuaweicloud.com: adds the SWR login derived from AK/SK',
    )
    .option(
      '--project-name <P>',
      'regional project name, the user is P@AK (default: $HW_PROJECT_NAME or $HW_REGION_NAME)',
    )
    .option('--ak-env <VAR>', 'environment variable holding the access key (AK)', 'HW_ACCESS_KEY')
    .option('--ak <AK>', 'access key given directly (it is part of the user name, not a secret)')
    .option('--sk-env <VAR>', 'environment variable holding the secret key (SK)', 'HW_SECRET_KEY')
    .option('--sk-stdin', 'read the SK from standard input (first line)')
    .option('--sk-file <file>', 'read the SK from a file (one trailing newline removed)')
    .option('--registry <host>', 'third-party registry host, e.g. harbor.example.com: adds a login for --private-user')
    .option('--private-user <user>', 'user name for --registry')
    .option('--private-password-env <VAR>', 'environment variable holding the password for --registry')
    .option('--private-password-stdin', 'read the password for --registry from standard input (first line)')
    .option(
      '--private-password-file <file>',
      'read the password for --registry from a file (one trailing newline removed)',
    )
    .option(
      '--output-file-path <file>',
      'write the manifest here (mode 0600, replaced atomically) instead of standard output',
    )
    .addOption(
      new Option(
        '--format <format>',
        'manifest format (default: yaml for a .yaml/.yml output file, else json)',
      ).choices(['json', 'yaml']),
    )
    // imagepull-secret-generator's own flags take secrets on argv; say why they are refused instead of "unknown option".
    .addOption(new Option('--sk <SK>').hideHelp())
    .addOption(new Option('--private-password <password>').hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  HW_ACCESS_KEY=... HW_SECRET_KEY=... swr-sync pull-secret --secret-name my-imagepull-secret \\\n' +
        '      --swr-address swr.cn-north-4.myhuaweicloud.com --project-name cn-north-4 --output-file-path my-imagepull-secret.json\n' +
        '  swr-sync pull-secret --secret-name harbor-pull --namespace shop --registry harbor.example.com \\\n' +
        '      --private-user robot --private-password-file /run/secrets/harbor --format yaml | kubectl apply -f -\n',
    )
    .action(async (flags: PullSecretFlags, command: Command) => {
      const explicit = (key: string): boolean => command.getOptionValueSource(key) === 'cli';
      const inputs = checkFlags(flags, explicit);
      const registries: RegistryLogin[] = [];
      if (inputs.swr) {
        const { accessKey, secretKey } = await readAccessKeys(flags);
        registries.push(
          swrRegistryLogin({ server: inputs.swr.server, projectName: inputs.swr.projectName, accessKey, secretKey }),
        );
      }
      if (inputs.private) {
        const password = await readPrivatePassword(flags);
        registries.push({ server: inputs.private.server, username: inputs.private.username, password });
      }
      const manifest = pullSecretManifest({
        name: flags.secretName,
        ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
        registries,
      });
      const format = flags.format ?? (flags.outputFilePath && /\.ya?ml$/i.test(flags.outputFilePath) ? 'yaml' : 'json');
      const text = formatPullSecret(manifest, format);
      if (flags.outputFilePath) {
        await writePrivateFile(flags.outputFilePath, text);
        const hosts = registries.map((r) => r.server).join(', ');
        process.stderr.write(
          `swr-sync: wrote Secret "${flags.secretName}" (${hosts}) to ${flags.outputFilePath} (mode 0600); apply it with: kubectl apply -f ${flags.outputFilePath}\n`,
        );
      } else {
        process.stdout.write(text);
      }
      process.exitCode = ExitCode.Ok;
    });
}

interface CheckedInputs {
  swr?: { server: string; projectName: string };
  private?: { server: string; username: string };
}

function invalid(message: string): SwrSyncError {
  return new SwrSyncError('ERR_INVALID_ARGUMENT', message);
}

/** Every non-secret flag, before any secret is read (so a typo does not leave the user typing an SK into stdin). */
function checkFlags(flags: PullSecretFlags, explicit: (key: string) => boolean): CheckedInputs {
  if (flags.sk !== undefined)
    throw invalid(
      '--sk is refused: secrets are never taken on the command line (visible in ps and shell history); use --sk-env VAR, --sk-file FILE or --sk-stdin',
    );
  if (flags.privatePassword !== undefined) {
    throw invalid(
      '--private-password is refused: secrets are never taken on the command line (visible in ps and shell history); use --private-password-env VAR, --private-password-file FILE or --private-password-stdin',
    );
  }
  requireRule('--secret-name', flags.secretName, DNS1123_SUBDOMAIN);
  if (flags.namespace !== undefined) requireRule('--namespace', flags.namespace, DNS1123_LABEL);

  const inputs: CheckedInputs = {};
  const swrOnly = ['projectName', 'ak', 'akEnv', 'skEnv', 'skStdin', 'skFile'].filter(explicit);
  if (flags.swrAddress !== undefined) {
    requireRule('--swr-address', flags.swrAddress, REGISTRY_HOST);
    const projectName = flags.projectName ?? process.env.HW_PROJECT_NAME ?? process.env.HW_REGION_NAME;
    if (projectName === undefined || projectName === '') {
      throw invalid(
        '--swr-address needs --project-name (or $HW_PROJECT_NAME / $HW_REGION_NAME): the SWR login user is PROJECT@AK',
      );
    }
    requireRule(
      explicit('projectName') ? '--project-name' : 'project name (from $HW_PROJECT_NAME / $HW_REGION_NAME)',
      projectName,
      PROJECT_NAME,
    );
    if (explicit('ak') && explicit('akEnv')) throw invalid('--ak and --ak-env are alternatives: give one');
    if (flags.ak !== undefined && !isAccessKey(flags.ak)) throw invalid(`--ak: the access key ${ACCESS_KEY_TEXT}`);
    const skSources = ['skEnv', 'skStdin', 'skFile'].filter(explicit);
    if (skSources.length > 1) throw invalid(`${skSources.map(flagName).join(', ')} are alternatives: give one`);
    inputs.swr = { server: flags.swrAddress, projectName };
  } else if (swrOnly.length > 0) {
    throw invalid(`${flagName(swrOnly[0]!)} needs --swr-address: the SWR login is added only for an SWR registry host`);
  }

  const passwordSources = ['privatePasswordEnv', 'privatePasswordStdin', 'privatePasswordFile'].filter(explicit);
  if (flags.registry !== undefined || flags.privateUser !== undefined) {
    if (flags.registry === undefined)
      throw invalid('--private-user needs --registry: the host of the third-party registry');
    requireRule('--registry', flags.registry, REGISTRY_HOST);
    if (flags.privateUser === undefined)
      throw invalid('--registry needs --private-user: the user name for that registry');
    if (flags.privateUser === '' || flags.privateUser.includes(':') || /\p{Cc}/u.test(flags.privateUser)) {
      throw invalid("--private-user must be non-empty without ':' or control characters (HTTP Basic auth, RFC 7617)");
    }
    if (passwordSources.length === 0)
      throw invalid(
        '--registry needs a password: give --private-password-env VAR, --private-password-file FILE or --private-password-stdin',
      );
    if (passwordSources.length > 1)
      throw invalid(`${passwordSources.map(flagName).join(', ')} are alternatives: give one`);
    if (inputs.swr && inputs.swr.server.toLowerCase() === flags.registry.toLowerCase()) {
      throw invalid(
        `--registry and --swr-address both name ${flags.registry}: a pull secret holds one login per registry`,
      );
    }
    inputs.private = { server: flags.registry, username: flags.privateUser };
  } else if (passwordSources.length > 0) {
    throw invalid(`${flagName(passwordSources[0]!)} needs --registry and --private-user`);
  }

  if (!inputs.swr && !inputs.private) {
    throw invalid(
      'nothing to put in the secret: give --swr-address (SWR login from AK/SK) and/or --registry with --private-user (third-party login)',
    );
  }
  if (inputs.swr && inputs.private && flags.skStdin && flags.privatePasswordStdin) {
    throw invalid(
      '--sk-stdin and --private-password-stdin cannot share standard input: read one of them from a file or an environment variable',
    );
  }
  return inputs;
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

async function readAccessKeys(flags: PullSecretFlags): Promise<{ accessKey: string; secretKey: string }> {
  const accessKey = flags.ak ?? readSecretFromEnv(flags.akEnv, '--ak-env', process.env);
  if (!isAccessKey(accessKey)) throw invalid(`--ak-env ${flags.akEnv}: the access key ${ACCESS_KEY_TEXT}`);
  let secretKey: string;
  if (flags.skStdin) secretKey = await readSecretFromStdin('--sk-stdin');
  else if (flags.skFile !== undefined) secretKey = await readSecretFromFile(flags.skFile, '--sk-file');
  else secretKey = readSecretFromEnv(flags.skEnv, '--sk-env', process.env);
  return { accessKey, secretKey };
}

async function readPrivatePassword(flags: PullSecretFlags): Promise<string> {
  if (flags.privatePasswordStdin) return readSecretFromStdin('--private-password-stdin');
  if (flags.privatePasswordFile !== undefined)
    return readSecretFromFile(flags.privatePasswordFile, '--private-password-file');
  return readSecretFromEnv(flags.privatePasswordEnv!, '--private-password-env', process.env);
}

/**
 * Writes a file only its owner can read: a new 0600 temporary file renamed over the target, so an existing file is
 * never truncated in place nor briefly readable with the old file's mode.
 */
async function writePrivateFile(file: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(file, text, { mode: 0o600 });
  } catch (error) {
    throw new SwrSyncError(
      'ERR_CONFIG_READ',
      `--output-file-path ${file}: cannot write the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
}
