import type { Command } from 'commander';
import { SwrSyncError } from '../../errors.js';
import { mergeLockFiles, readLockFile, serializeLockFile, writeLockFile, type LockFile } from '../../plan/lock-file.js';
import { ExitCode } from '../exit-codes.js';

/** `swr-sync lock merge A.json B.json … [-o merged.json]`: one lock file from the shards of a matrix (docs/cli.md). */
export function registerLock(program: Command): void {
  const lock = program.command('lock').description('work with swr-mirror.lock.json files');
  lock
    .command('merge')
    .description('merge the lock files written by the shards of one job into one (sorted, byte-stable)')
    .argument('<files...>', 'lock files to merge')
    .option('-o, --output <file>', 'write the merged lock file here (atomically) instead of standard output')
    .action(async (files: string[], flags: { output?: string }) => {
      const locks: Array<{ file: string; lock: LockFile }> = [];
      for (const file of files) {
        const lockFile = await readLockFile(file);
        if (!lockFile) throw new SwrSyncError('ERR_CONFIG_READ', `${file}: no such lock file`);
        locks.push({ file, lock: lockFile });
      }
      const merged = mergeLockFiles(locks);
      if (flags.output) await writeLockFile(flags.output, merged);
      else process.stdout.write(serializeLockFile(merged));
      process.exitCode = ExitCode.Ok;
    });
}
