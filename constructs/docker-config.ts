/**
 * The `.dockerconfigjson` payload of a `kubernetes.io/dockerconfigjson` Secret:
 * `{"auths":{"<server>":{"username","password","auth":base64("user:pass"),"email"?}}}` — the shape
 * `kubectl create secret docker-registry` writes. When any value is a token the document is built with Terraform's
 * `jsonencode` / `base64encode`, so the secret stays out of `cdk.tf.json`.
 */
import { dockerConfigAuths } from '../src/kubernetes/pull-secret.js';
import { Fn, Token } from './lib/cdktf.js';

/** Credentials for one registry in a pull secret. */
export interface RegistryCredential {
  /** Registry host[:port], e.g. 'swr.cn-north-4.myhuaweicloud.com' or 'harbor.example.com'. */
  readonly server: string;
  /** User name (a token keeps it out of `cdk.tf.json`). */
  readonly username: string;
  /** A token (TerraformVariable, data source attribute) keeps the secret out of `cdk.tf.json`. */
  readonly password: string;
  /** Legacy `email` field of the Docker config. @default - none */
  readonly email?: string;
}

export function dockerConfigJson(credentials: readonly RegistryCredential[]): string {
  const dynamic = credentials.some((c) =>
    [c.server, c.username, c.password, c.email].some((v) => v !== undefined && Token.isUnresolved(v)),
  );
  // The document's shape lives in src/ (shared with `swr-sync pull-secret`); only the encoding differs for tokens.
  const auths = dockerConfigAuths(
    credentials,
    dynamic
      ? // join, not a template string: cdktf cannot nest "${…}" inside a function argument
        (username, password) => Fn.base64encode(Fn.join(':', [username, password]))
      : undefined,
  );
  return dynamic ? Fn.jsonencode({ auths }) : JSON.stringify({ auths });
}
