/**
 * The `.dockerconfigjson` payload of a `kubernetes.io/dockerconfigjson` Secret:
 * `{"auths":{"<server>":{"username","password","auth":base64("user:pass"),"email"?}}}` — the shape
 * `kubectl create secret docker-registry` writes. When any value is a token the document is built with Terraform's
 * `jsonencode` / `base64encode`, so the secret stays out of `cdk.tf.json`.
 */
import { Fn, Token } from './lib/cdktf.js';

/** Credentials for one registry in a pull secret. */
export interface RegistryCredential {
  /** Registry host[:port], e.g. 'swr.cn-north-4.myhuaweicloud.com' or 'harbor.example.com'. */
  readonly server: string;
  readonly username: string;
  /** A token (TerraformVariable, data source attribute) keeps the secret out of `cdk.tf.json`. */
  readonly password: string;
  readonly email?: string;
}

export function dockerConfigJson(credentials: readonly RegistryCredential[]): string {
  const dynamic = credentials.some((c) =>
    [c.server, c.username, c.password, c.email].some((v) => v !== undefined && Token.isUnresolved(v)),
  );
  const auths: Record<string, Record<string, string>> = {};
  for (const c of credentials) {
    const entry: Record<string, string> = {
      username: c.username,
      password: c.password,
      auth: dynamic
        ? // join, not a template string: cdktf cannot nest "${…}" inside a function argument
          Fn.base64encode(Fn.join(':', [c.username, c.password]))
        : Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64'),
    };
    if (c.email !== undefined) entry.email = c.email;
    auths[c.server] = entry;
  }
  return dynamic ? Fn.jsonencode({ auths }) : JSON.stringify({ auths });
}
