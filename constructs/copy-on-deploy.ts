/**
 * Copy-on-deploy: a `terraform_data` per tag whose `triggers_replace` holds the source (digest when the lock has
 * it, else the tag) and the destination, so Terraform re-runs the copy exactly when one of them changes. The
 * `local-exec` provisioner runs `swr-sync copy SRC DST`; credentials come from files or the environment of the
 * `terraform apply` process (DESIGN §3: never argv), so nothing secret reaches the configuration or the state.
 */
export interface CopyOnDeployOptions {
  /** The swr-sync executable, e.g. 'npx swr-sync'. @default 'swr-sync' */
  readonly command?: string;
  /** auth.json for both sides (`${VAR}` in it is expanded from the environment). @default - ~/.docker/config.json */
  readonly authFile?: string;
  readonly srcAuthFile?: string;
  readonly destAuthFile?: string;
  /** Plain HTTP or unverified TLS registries. @default false */
  readonly insecure?: boolean;
  /** Extra, non-secret environment for the command; it is written into cdk.tf.json. */
  readonly environment?: Record<string, string>;
  /** Directory to run the command in. @default - where terraform runs */
  readonly workingDir?: string;
}

/** POSIX single-quoting: the references are validated, but paths and commands come from users. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function copyCommand(options: CopyOnDeployOptions, source: string, destination: string, platforms?: string[], withReferrers = false): string {
  const args = ['copy', source, destination];
  if (platforms && platforms.length > 0) args.push('--platform', platforms.join(','));
  if (withReferrers) args.push('--with-referrers');
  if (options.authFile) args.push('--auth', options.authFile);
  if (options.srcAuthFile) args.push('--src-authfile', options.srcAuthFile);
  if (options.destAuthFile) args.push('--dest-authfile', options.destAuthFile);
  if (options.insecure) args.push('--insecure');
  return [options.command ?? 'swr-sync', ...args.map(shellQuote)].join(' ');
}
