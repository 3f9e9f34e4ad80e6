import { Command, CommanderError } from 'commander';
import { describeError, isSwrSyncError } from '../errors.js';
import { printable } from '../results/escape.js';
import { registerConfig } from './commands/config.js';
import { registerCopy } from './commands/copy.js';
import { registerLock } from './commands/lock.js';
import { registerLoginKey } from './commands/login-key.js';
import { registerPlan } from './commands/plan.js';
import { registerPullSecret } from './commands/pull-secret.js';
import { registerSync } from './commands/sync.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

export const VERSION = '0.1.0';

const COPYING_COMMANDS = new Set(['sync', 'copy']);

export function buildProgram(): Command {
  const program = new Command('swr-sync')
    .description(
      'Mirror container images between OCI / Docker V2 registries (Docker Hub, Quay, Harbor, Huawei Cloud SWR...) without a Docker daemon',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerSync(program);
  registerPlan(program);
  registerCopy(program);
  registerConfig(program);
  registerLoginKey(program);
  registerLock(program);
  registerPullSecret(program);
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs the CLI; returns the exit status. Errors are one line on stderr without a stack trace. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  // "(nothing was copied)" reassures after a bad input to a command that copies; config, login-key, lock and
  // pull-secret copy nothing anyway.
  let copying = true;
  program.hook('preAction', (_program, action) => {
    copying = COPYING_COMMANDS.has(action.name());
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (unknown option, missing argument, invalid value).
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return ExitCode.Ok;
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.InvalidInput;
    }
    process.stderr.write(
      `swr-sync: error: ${printable(isSwrSyncError(error) ? error.message : describeError(error))}\n`,
    );
    if (copying && isSwrSyncError(error) && error.isInputError) process.stderr.write('(nothing was copied)\n');
    return exitCodeFor(error);
  }
}
