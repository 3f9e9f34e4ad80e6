/**
 * Copy-on-deploy: a `terraform_data` per tag whose `triggers_replace` holds the source (digest when the lock has
 * it, else the tag) and the destination, so Terraform re-runs the copy exactly when one of them changes. The
 * `local-exec` provisioner runs `swr-sync copy SRC DST`; credentials come from files or the environment of the
 * `terraform apply` process, never argv, so nothing secret reaches the configuration or the state.
 *
 * `local-exec` runs in the stack's directory (`cdktf.out/stacks/<stack>` under `cdktf deploy`), not where the app
 * was synthesized, so every path given here is resolved at synth against the app's working directory.
 */
import { isAbsolute, resolve } from 'node:path';

/** How `MirroredImage` runs `swr-sync copy` on `terraform apply`. */
export interface CopyOnDeployOptions {
  /**
   * The swr-sync executable, e.g. 'npx swr-sync'. A first word that is a relative path ('./bin/swr-sync') is resolved
   * against the app's directory at synth. @default 'swr-sync'
   */
  readonly command?: string;
  /**
   * auth.json for both sides (`${VAR}` in it is expanded from the environment); a relative path is resolved against
   * the app's directory at synth. @default - ~/.docker/config.json
   */
  readonly authFile?: string;
  /** auth.json for the source only; resolved as `authFile`. @default - `authFile` */
  readonly srcAuthFile?: string;
  /** auth.json for the destination only; resolved as `authFile`. @default - `authFile` */
  readonly destAuthFile?: string;
  /** Plain HTTP or unverified TLS registries. @default false */
  readonly insecure?: boolean;
  /** Extra, non-secret environment for the command; it is written into cdk.tf.json. @default - none */
  readonly environment?: Record<string, string>;
  /** Directory to run the command in; a relative path is resolved against the app's directory. @default - the stack directory, where terraform runs */
  readonly workingDir?: string;
}

/** POSIX single-quoting: the references are validated, but paths and commands come from users. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An absolute path, resolved against `base` (the app's working directory at synth). */
export function absolutePath(path: string, base = process.cwd()): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

/** The command with a relative-path first word ('./x', '../x') made absolute; anything else is left to PATH. */
export function absoluteCommand(command: string, base = process.cwd()): string {
  const m = /^(\.{1,2}\/\S*)(.*)$/s.exec(command);
  return m ? `${shellQuote(absolutePath(m[1]!, base))}${m[2]}` : command;
}

/** The options with every path absolute (see the module comment). */
export function resolveCopyOptions(options: CopyOnDeployOptions, base = process.cwd()): CopyOnDeployOptions {
  const abs = (p: string | undefined) => (p === undefined ? undefined : absolutePath(p, base));
  return {
    ...options,
    ...(options.command !== undefined ? { command: absoluteCommand(options.command, base) } : {}),
    ...(options.authFile !== undefined ? { authFile: abs(options.authFile) } : {}),
    ...(options.srcAuthFile !== undefined ? { srcAuthFile: abs(options.srcAuthFile) } : {}),
    ...(options.destAuthFile !== undefined ? { destAuthFile: abs(options.destAuthFile) } : {}),
    ...(options.workingDir !== undefined ? { workingDir: abs(options.workingDir) } : {}),
  };
}

export function copyCommand(
  options: CopyOnDeployOptions,
  source: string,
  destination: string,
  platforms?: string[],
  withReferrers = false,
): string {
  const args = ['copy', source, destination];
  if (platforms && platforms.length > 0) args.push('--platform', platforms.join(','));
  if (withReferrers) args.push('--with-referrers');
  if (options.authFile) args.push('--auth', options.authFile);
  if (options.srcAuthFile) args.push('--src-authfile', options.srcAuthFile);
  if (options.destAuthFile) args.push('--dest-authfile', options.destAuthFile);
  if (options.insecure) args.push('--insecure');
  return [options.command ?? 'swr-sync', ...args.map(shellQuote)].join(' ');
}
