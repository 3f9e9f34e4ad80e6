import type { Command } from 'commander';
import { SwrSyncError } from '../../errors.js';
import { swrLoginKey, swrLoginUser } from '../../swr/login-key.js';
import { ExitCode } from '../exit-codes.js';
import { readSecretFromEnv, readSecretFromStdin } from '../read-secret.js';

interface LoginKeyFlags {
  akEnv?: string;
  skEnv?: string;
  ak?: string;
  skStdin?: boolean;
  projectName?: string;
  json?: boolean;
}

/**
 * `swr-sync login-key`: the long-term SWR docker login (docs/swr.md, "Long-term login"): user `PROJECT@AK`, password
 * hex(HMAC-SHA256(key=SK, msg=AK)). The SK is read from the environment or stdin, never from argv.
 */
export function registerLoginKey(program: Command): void {
  program
    .command('login-key')
    .description('print the SWR long-term docker login user (PROJECT@AK) and login key, derived from an AK/SK pair')
    .option('--ak-env <VAR>', 'environment variable holding the access key (AK)', 'HW_ACCESS_KEY')
    .option('--sk-env <VAR>', 'environment variable holding the secret key (SK)', 'HW_SECRET_KEY')
    .option('--ak <AK>', 'access key given directly (the SK then comes from --sk-stdin)')
    .option('--sk-stdin', 'read the secret key from standard input')
    .option(
      '--project-name <P>',
      'regional project name, usually the region id (default: $HW_PROJECT_NAME or $HW_REGION_NAME)',
    )
    .option('--json', 'print {"user","key"} as JSON')
    .addHelpText(
      'after',
      '\nOutput: the docker login user on the first line, the login key on the second.\nExample: HW_ACCESS_KEY=... HW_SECRET_KEY=... swr-sync login-key --project-name cn-north-4',
    )
    .action(async (flags: LoginKeyFlags, command: Command) => {
      const env = process.env;
      const ak = flags.ak ?? readSecretFromEnv(flags.akEnv ?? 'HW_ACCESS_KEY', '--ak-env', env);
      const skFromEnvExplicit = command.getOptionValueSource('skEnv') === 'cli';
      if (flags.skStdin && skFromEnvExplicit)
        throw new SwrSyncError('ERR_INVALID_ARGUMENT', '--sk-stdin and --sk-env are alternatives: give one');
      const sk = flags.skStdin
        ? await readSecretFromStdin('--sk-stdin')
        : readSecretFromEnv(flags.skEnv ?? 'HW_SECRET_KEY', '--sk-env', env);
      const project = flags.projectName ?? env.HW_PROJECT_NAME ?? env.HW_REGION_NAME;
      const key = swrLoginKey(ak, sk);
      const user = project ? swrLoginUser(project, ak) : undefined;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...(user ? { user } : {}), key })}\n`);
      } else {
        if (!user)
          process.stderr.write(
            'swr-sync: note: no --project-name (or HW_PROJECT_NAME / HW_REGION_NAME): the user is <project>@<AK>; printing the key only\n',
          );
        process.stdout.write(user ? `${user}\n${key}\n` : `${key}\n`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
