import { REGISTRY_HOST } from '../src/kubernetes/pull-secret.js';
import { swrLoginKey, swrLoginUser } from '../src/swr/login-key.js';
import { Annotations, Construct, Fn, SecretV1, Token, checkFramework } from './lib/cdktf.js';
import type { KubernetesProvider } from './lib/cdktf.js';
import { K8S_LABEL_NAME, K8S_SUBDOMAIN } from './lib/rules.js';
import type { Rule } from './lib/rules.js';
import { REDACTED, check, fail, isUnresolved } from './lib/validation.js';
import { dockerConfigJson } from './docker-config.js';
import type { RegistryCredential } from './docker-config.js';
import { HuaweicloudProvider } from './huaweicloud/provider.js';
import * as hw from './huaweicloud/index.js';
import { cloudFor } from './swr-login-server.js';

/**
 * SWR long-term login from an AK/SK pair: user `<projectName>@<AK>`, password
 * hex(HMAC-SHA256(key=SK, msg=AK)).
 *
 * Terraform has no HMAC function, so the login key can only be computed at synth, from literal keys. When the keys
 * are tokens (TerraformVariable etc.), pass `loginKey` instead — e.g. a sensitive variable filled from
 * `swr-sync login-key --ak-env AK --sk-env SK` — and the SK never reaches Terraform at all.
 */
export interface SwrLogin {
  /** Region ID, e.g. 'cn-north-4'. */
  readonly region: string;
  /** Regional project name, the part before '@' in the user. @default - the region */
  readonly projectName?: string;
  /** Access key ID (not secret: it is part of the user name). Required unless `temporaryLogin` is used. @default - none */
  readonly accessKey?: string;
  /** Secret access key, to derive the login key at synth. Exactly one of `secretKey`, `loginKey` and `temporaryLogin`. @default - none */
  readonly secretKey?: string;
  /** The precomputed login key (64 lowercase hex), usually a sensitive TerraformVariable. @default - none */
  readonly loginKey?: string;
  /**
   * Use SWR's temporary login instead, fetched at apply time by `huaweicloud_swr_temporary_login_command` (`true`
   * creates one in `region`, or pass your own): no AK/SK and no login key in the app. The credential expires (SWR
   * issues it for hours) and sits in the Terraform state; refresh it with `terraform apply -replace` on the login
   * command. Suits short-lived clusters and CI, not pods that pull days later. @default - none
   */
  readonly temporaryLogin?: boolean | hw.SwrTemporaryLoginCommand;
  /**
   * Cloud domain of the registry host.
   * @default - the stack's huaweicloud provider's `cloud`, else 'myhuaweicloud.eu' for eu-west-1xx regions, else 'myhuaweicloud.com'
   */
  readonly cloud?: string;
  /** Registry host. @default `swr.{region}.{cloud}` */
  readonly server?: string;
}

/** Props of an `ImagePullSecret`. */
export interface ImagePullSecretProps {
  /** Secret name: a Kubernetes DNS subdomain (≤ 253 lowercase letters, digits, '-', '.'). */
  readonly name: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** Registries to authenticate against. @default - none (then `swr` is required) */
  readonly registries?: RegistryCredential[];
  /** An SWR registry whose login is derived from AK/SK. @default - none */
  readonly swr?: SwrLogin;
  /** Labels of the Secret. @default - none */
  readonly labels?: Record<string, string>;
  /**
   * Send the payload as the write-only `data_wo` argument (Terraform ≥ 1.11, kubernetes provider ≥ 2.38), so it is
   * never saved in the Terraform state. Bump `writeOnlyRevision` to push a changed credential.
   * @default false
   */
  readonly writeOnly?: boolean;
  /** @default 1 */
  readonly writeOnlyRevision?: number;
  /** @default - the stack's kubernetes provider */
  readonly provider?: KubernetesProvider;
}

/** Props of `ImagePullSecret.forSwr`: the secret's props and the SWR login in one object. */
export interface SwrImagePullSecretProps extends Omit<ImagePullSecretProps, 'swr'>, SwrLogin {}

const LOGIN_KEY: Rule<string> = {
  text: 'must be 64 lowercase hex characters (hex HMAC-SHA256)',
  test: (v) => /^[0-9a-f]{64}$/.test(v),
};

const SERVER: Rule<string> = REGISTRY_HOST;

function isLiteral(v: unknown): v is string {
  return typeof v === 'string' && !Token.isUnresolved(v);
}

/** A `kubernetes_secret_v1` of type `kubernetes.io/dockerconfigjson`. */
export class ImagePullSecret extends Construct {
  /**
   * A pull secret for SWR, with the login built from AK/SK as Huawei's openssl recipe does.
   * Other registries can be added with `registries`.
   */
  static forSwr(scope: Construct, id: string, props: SwrImagePullSecretProps): ImagePullSecret {
    const { region, projectName, accessKey, secretKey, loginKey, temporaryLogin, cloud, server, ...rest } = props;
    return new ImagePullSecret(scope, id, {
      ...rest,
      swr: { region, projectName, accessKey, secretKey, loginKey, temporaryLogin, cloud, server },
    });
  }

  /** The `kubernetes_secret_v1`. */
  readonly resource: SecretV1;
  /** The Secret's name. */
  readonly secretName: string;
  /** The Secret's namespace: pods of other namespaces cannot use it. */
  readonly namespace: string;
  /** Registry hosts this secret authenticates to (tokens where not known at synth). */
  readonly servers: string[];
  private temporaryLoginCommand?: hw.SwrTemporaryLoginCommand;

  constructor(scope: Construct, id: string, props: ImagePullSecretProps) {
    super(scope, id);
    checkFramework(this);
    if (props.name === undefined) fail(this, 'name', props.name, 'is required');
    check(this, 'name', props.name, K8S_SUBDOMAIN);
    check(this, 'namespace', props.namespace, K8S_LABEL_NAME);
    this.secretName = props.name;
    this.namespace = props.namespace ?? 'default';

    const credentials: RegistryCredential[] = [];
    if (props.swr) credentials.push(this.swrCredential(props.swr, props.writeOnly === true));
    (props.registries ?? []).forEach((r, i) =>
      credentials.push(this.checkCredential(r, `registries[${i}]`, props.writeOnly === true)),
    );
    if (credentials.length === 0)
      fail(this, 'registries', props.registries, 'must hold at least one registry (or set swr)');
    const servers = credentials.map((c) => c.server).filter(isLiteral);
    const dup = servers.find((s, i) => servers.indexOf(s) !== i);
    if (dup !== undefined) fail(this, 'registries', dup, 'must name each registry server once');
    this.servers = credentials.map((c) => c.server);

    const payload = { '.dockerconfigjson': dockerConfigJson(credentials) };
    this.resource = new SecretV1(this, 'Resource', {
      metadata: { name: props.name, namespace: this.namespace, labels: props.labels },
      type: 'kubernetes.io/dockerconfigjson',
      ...(props.writeOnly ? { dataWo: payload, dataWoRevision: props.writeOnlyRevision ?? 1 } : { data: payload }),
      provider: props.provider,
    });
  }

  private checkCredential(r: RegistryCredential, at: string, writeOnly: boolean): RegistryCredential {
    check(this, `${at}.server`, r.server, SERVER);
    if (isLiteral(r.username) && r.username.length === 0) fail(this, `${at}.username`, r.username, 'must be non-empty');
    if (r.password === undefined || (isLiteral(r.password) && r.password.length === 0)) {
      fail(this, `${at}.password`, REDACTED, 'must be non-empty');
    }
    if (isLiteral(r.password)) this.warnLiteral(`${at}.password`, r.server, writeOnly);
    return r;
  }

  private swrCredential(login: SwrLogin, writeOnly: boolean): RegistryCredential {
    if (login.region === undefined) fail(this, 'swr.region', login.region, 'is required');
    const server = login.server ?? `swr.${login.region}.${this.cloudOf(login)}`;
    check(this, 'swr.server', server, SERVER);
    if (login.temporaryLogin !== undefined && login.temporaryLogin !== false)
      return this.temporaryCredential(login, server);
    if (login.accessKey === undefined)
      fail(this, 'swr.accessKey', login.accessKey, 'is required (or swr.temporaryLogin)');
    const projectName = login.projectName ?? login.region;
    if (isLiteral(projectName) && (projectName.length === 0 || projectName.includes('@'))) {
      fail(this, 'swr.projectName', projectName, "must be non-empty and contain no '@' (the user is PROJECT@AK)");
    }
    // AKs are alphanumeric (huaweicloud/swr-login checks ^[a-zA-Z0-9]{10,30}$).
    if (isLiteral(login.accessKey) && !/^[A-Za-z0-9]+$/.test(login.accessKey)) {
      fail(this, 'swr.accessKey', REDACTED, 'must be letters and digits only');
    }
    if (login.secretKey !== undefined && login.loginKey !== undefined) {
      fail(this, 'swr.loginKey', REDACTED, 'must not be set together with swr.secretKey: give one of them');
    }
    if (login.secretKey === undefined && login.loginKey === undefined) {
      fail(this, 'swr.secretKey', login.secretKey, 'is required (or swr.loginKey) unless swr.temporaryLogin is used');
    }
    // projectName@AK: plain interpolation works for tokens too; only the HMAC needs literal inputs.
    const username =
      isLiteral(projectName) && isLiteral(login.accessKey)
        ? swrLoginUser(projectName, login.accessKey)
        : Fn.join('@', [projectName, login.accessKey as string]);

    let password: string;
    if (login.loginKey !== undefined) {
      if (isLiteral(login.loginKey) && !LOGIN_KEY.test(login.loginKey))
        fail(this, 'swr.loginKey', REDACTED, LOGIN_KEY.text);
      password = login.loginKey;
      if (isLiteral(password)) this.warnLiteral('swr.loginKey', server, writeOnly);
    } else {
      const sk = login.secretKey as string;
      if (isUnresolved(sk) || isUnresolved(login.accessKey)) {
        fail(
          this,
          isUnresolved(sk) ? 'swr.secretKey' : 'swr.accessKey',
          isUnresolved(sk) ? sk : login.accessKey,
          'cannot become the SWR login key at synth: Terraform has no HMAC function. Pass swr.loginKey instead ' +
            '(e.g. a sensitive TerraformVariable set from `swr-sync login-key --ak-env AK --sk-env SK`)',
        );
      }
      if (sk.length === 0 || /\s/.test(sk))
        fail(this, 'swr.secretKey', REDACTED, 'must be non-empty without whitespace');
      password = swrLoginKey(login.accessKey, sk);
      this.warnLiteral('swr.secretKey', server, writeOnly);
    }
    return { server, username, password };
  }

  /**
   * User and password from the temporary login's first `auths` entry, `base64(user:password)`, split at the first
   * ':' by Terraform at apply time: nothing of it is in `cdk.tf.json`.
   */
  private temporaryCredential(login: SwrLogin, server: string): RegistryCredential {
    for (const key of ['accessKey', 'secretKey', 'loginKey', 'projectName'] as const) {
      if (login[key] !== undefined)
        fail(
          this,
          `swr.${key}`,
          key === 'accessKey' || key === 'projectName' ? login[key] : REDACTED,
          'must not be set with swr.temporaryLogin',
        );
    }
    const command =
      login.temporaryLogin instanceof hw.SwrTemporaryLoginCommand
        ? login.temporaryLogin
        : new hw.SwrTemporaryLoginCommand(this, 'TemporaryLogin', { region: login.region });
    this.temporaryLoginCommand = command;
    const decoded = Fn.base64decode(Fn.lookup(Fn.element(command.auths, 0), 'auth', ''));
    const parts = Fn.regex('^([^:]*):(.*)$', decoded);
    Annotations.of(this).addWarning(
      `swr.temporaryLogin expires (SWR issues temporary logins for hours): pods that pull after ` +
        'that fail until `terraform apply -replace` re-creates the login command. Prefer loginKey for long-running workloads.',
    );
    return { server, username: Fn.element(parts, 0) as string, password: Fn.element(parts, 1) as string };
  }

  /**
   * The given cloud, else the stack's huaweicloud provider's `cloud` (a private cloud's domain), else by this
   * region: the registry is the region's, whatever region the provider itself talks to.
   */
  private cloudOf(login: SwrLogin): string {
    if (login.cloud !== undefined) return login.cloud;
    const cloud = HuaweicloudProvider.of(this)?.config.cloud;
    if (cloud !== undefined) return cloud;
    return cloudFor(isLiteral(login.region) ? login.region : '');
  }

  /** The temporary login command this secret reads, when `swr.temporaryLogin` is set. */
  get temporaryLogin(): hw.SwrTemporaryLoginCommand | undefined {
    return this.temporaryLoginCommand;
  }

  private warnLiteral(prop: string, server: string, writeOnly: boolean): void {
    const where = writeOnly ? 'cdk.tf.json' : 'cdk.tf.json and in the Terraform state';
    Annotations.of(this).addWarning(
      `${prop} for ${isLiteral(server) ? `"${server}"` : 'the registry'} is a literal string: ` +
        `the credential will be stored in ${where}. Pass a sensitive TerraformVariable or another token instead.`,
    );
  }
}
