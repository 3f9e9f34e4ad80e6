import { TerraformProvider, TerraformStack } from '../lib/cdktf.js';
import type { Construct, IConstruct, TerraformProviderGeneratorMetadata } from '../lib/cdktf.js';
import { blockToHclTerraform, blockToTerraform } from './schema.js';
import type { BlockSchema } from './schema.js';

/**
 * The bindings were written against the provider schema at v1.97.1; older releases may lack some
 * resources (the Enterprise-era ones) or arguments.
 */
export const DEFAULT_PROVIDER_VERSION = '~> 1.97';

/** Generator metadata written into `cdk.tf.json` for the bindings' resources. */
export const PROVIDER_METADATA: TerraformProviderGeneratorMetadata = {
  providerName: 'huaweicloud',
  providerVersionConstraint: DEFAULT_PROVIDER_VERSION,
};

/** An `assume_role` block: switch to an agency before calling the APIs. */
export interface HuaweicloudProviderAssumeRole {
  /** Agency to assume. */
  readonly agencyName: string;
  /**
   * Account that owns the agency. Optional in the provider's Go schema (`huaweicloud/provider.go`), though its doc
   * page marks it required. @default - env `HW_ASSUME_ROLE_DOMAIN_NAME`
   */
  readonly domainName?: string;
  /** @default - env `HW_ASSUME_ROLE_DOMAIN_ID` */
  readonly domainId?: string;
  /** Seconds. @default - env `HW_ASSUME_ROLE_DURATION` */
  readonly duration?: number;
}

/** An `assume_role_with_oidc` block: federate an external identity provider's token into an agency. */
export interface HuaweicloudProviderAssumeRoleWithOidc {
  /** Agency to assume. */
  readonly agencyName: string;
  /** Account that owns the agency. */
  readonly domainId: string;
  /** The external identity provider's ID. */
  readonly idpId: string;
  /** Exactly one of `idToken` and `idTokenFile`. @default - env `HW_ASSUME_ROLE_ID_TOKEN_FILE` */
  readonly idTokenFile?: string;
  /** Sensitive: prefer `idTokenFile`. @default - env `HW_ASSUME_ROLE_ID_TOKEN` */
  readonly idToken?: string;
  /** Seconds. @default - env `HW_ASSUME_ROLE_DURATION` */
  readonly duration?: number;
}

/**
 * Provider arguments, all optional. Leave the credentials out: the provider then reads
 * `HW_ACCESS_KEY` / `HW_SECRET_KEY` (or a shared config file, ECS agency, assume-role, OIDC) at plan time, and
 * nothing secret lands in `cdk.tf.json`.
 */
export interface HuaweicloudProviderConfig {
  /** `required_providers` version constraint. @default '~> 1.97' */
  readonly version?: string;
  /** Region for resources that set none. @default - env `HW_REGION_NAME`; required when static credentials are used */
  readonly region?: string;
  /** Access key ID. @default - env `HW_ACCESS_KEY` */
  readonly accessKey?: string;
  /** Secret access key; keep it out of the app (use the environment). @default - env `HW_SECRET_KEY` */
  readonly secretKey?: string;
  /** For temporary AK/SK. @default - env `HW_SECURITY_TOKEN` */
  readonly securityToken?: string;
  /** Project ID. @default - env `HW_PROJECT_ID`, else looked up from the project name */
  readonly projectId?: string;
  /** Project name. @default - env `HW_PROJECT_NAME`, else the region name */
  readonly projectName?: string;
  /** Account (domain) ID. @default - env `HW_DOMAIN_ID` */
  readonly domainId?: string;
  /** Account (domain) name, for password or token authentication. @default - env `HW_DOMAIN_NAME` */
  readonly domainName?: string;
  /** IAM user name, for password authentication. @default - env `HW_USER_NAME` */
  readonly userName?: string;
  /** IAM user ID, for password authentication. @default - env `HW_USER_ID` */
  readonly userId?: string;
  /** IAM user password; keep it out of the app. @default - env `HW_USER_PASSWORD` */
  readonly password?: string;
  /** An IAM token instead of other credentials. @default - env `HW_AUTH_TOKEN` */
  readonly token?: string;
  /** OpenStack-style tenant ID (legacy). @default - env `OS_TENANT_ID` */
  readonly tenantId?: string;
  /** OpenStack-style tenant name (legacy). @default - env `OS_TENANT_NAME` */
  readonly tenantName?: string;
  /** Project to work in through the agency. @default - env `OS_DELEGATED_PROJECT` */
  readonly delegatedProject?: string;
  /** Agency to assume (with `agencyDomainName`). @default - env `OS_AGENCY_NAME` */
  readonly agencyName?: string;
  /** Account that owns `agencyName`. @default - env `OS_AGENCY_DOMAIN_NAME` */
  readonly agencyDomainName?: string;
  /** IAM endpoint. @default 'https://iam.{region}.{cloud}/v3' */
  readonly authUrl?: string;
  /** Cloud domain: also the `swr.{region}.{cloud}` registry host. @default 'myhuaweicloud.com' ('myhuaweicloud.eu' for eu-west-1xx provider regions) */
  readonly cloud?: string;
  /** Skip TLS verification of the API endpoints. @default false */
  readonly insecure?: boolean;
  /** CA bundle for the API endpoints. @default - the system's */
  readonly cacertFile?: string;
  /** Client certificate for mutual TLS. @default - none */
  readonly cert?: string;
  /** Client key for `cert`. @default - none */
  readonly key?: string;
  /** Retries of a failed API call. @default 5 */
  readonly maxRetries?: number;
  /** Enterprise project of new resources. @default - env `HW_ENTERPRISE_PROJECT_ID`, else the default project */
  readonly enterpriseProjectId?: string;
  /** Request signing: HmacSHA256, HmacSM3, EcdsaP256SHA256 or SM2SM3. @default 'HmacSHA256' */
  readonly signingAlgorithm?: string;
  /** Treat the cloud as a regional deployment (per-region endpoints for global services). @default false */
  readonly regional?: boolean;
  /** Skip the check of the account's website type (international or Chinese mainland). @default false */
  readonly skipCheckWebsiteType?: boolean;
  /** Skip the provider's check for a newer release. @default true */
  readonly skipCheckUpgrade?: boolean;
  /** hcloud CLI config file to read credentials from. @default '~/.hcloud/config.json' */
  readonly sharedConfigFile?: string;
  /** Profile in `sharedConfigFile`. @default - the file's current profile */
  readonly profile?: string;
  /** Turns "can't be updated" errors on NonUpdatable fields into replacements. @default false */
  readonly enableForceNew?: boolean;
  /** Service endpoint overrides, e.g. `{ swr: 'https://swr-api.cn-north-4.myhuaweicloud.com' }`. @default - none */
  readonly endpoints?: Record<string, string>;
  /** Agencies to assume in turn. @default - none */
  readonly assumeRole?: HuaweicloudProviderAssumeRole[];
  /** At most one. @default - none */
  readonly assumeRoleWithOidc?: HuaweicloudProviderAssumeRoleWithOidc[];
  /** Tags added to every taggable resource the provider manages. @default - none */
  readonly defaultTags?: Record<string, string>;
  /** Tag keys the provider ignores when comparing resources. @default - none */
  readonly ignoreTags?: string[];
  /** Provider alias, for a second configuration. @default - the default provider */
  readonly alias?: string;
}

const SCHEMA: BlockSchema = {
  region: { tf: 'region', type: 'string' },
  accessKey: { tf: 'access_key', type: 'string' },
  secretKey: { tf: 'secret_key', type: 'string' },
  securityToken: { tf: 'security_token', type: 'string' },
  projectId: { tf: 'project_id', type: 'string' },
  projectName: { tf: 'project_name', type: 'string' },
  domainId: { tf: 'domain_id', type: 'string' },
  domainName: { tf: 'domain_name', type: 'string' },
  userName: { tf: 'user_name', type: 'string' },
  userId: { tf: 'user_id', type: 'string' },
  password: { tf: 'password', type: 'string' },
  token: { tf: 'token', type: 'string' },
  tenantId: { tf: 'tenant_id', type: 'string' },
  tenantName: { tf: 'tenant_name', type: 'string' },
  delegatedProject: { tf: 'delegated_project', type: 'string' },
  agencyName: { tf: 'agency_name', type: 'string' },
  agencyDomainName: { tf: 'agency_domain_name', type: 'string' },
  authUrl: { tf: 'auth_url', type: 'string' },
  cloud: { tf: 'cloud', type: 'string' },
  insecure: { tf: 'insecure', type: 'bool' },
  cacertFile: { tf: 'cacert_file', type: 'string' },
  cert: { tf: 'cert', type: 'string' },
  key: { tf: 'key', type: 'string' },
  maxRetries: { tf: 'max_retries', type: 'number' },
  enterpriseProjectId: { tf: 'enterprise_project_id', type: 'string' },
  signingAlgorithm: { tf: 'signing_algorithm', type: 'string' },
  regional: { tf: 'regional', type: 'bool' },
  skipCheckWebsiteType: { tf: 'skip_check_website_type', type: 'bool' },
  skipCheckUpgrade: { tf: 'skip_check_upgrade', type: 'bool' },
  sharedConfigFile: { tf: 'shared_config_file', type: 'string' },
  profile: { tf: 'profile', type: 'string' },
  enableForceNew: { tf: 'enable_force_new', type: 'bool' },
  endpoints: { tf: 'endpoints', type: 'stringMap' },
  defaultTags: { tf: 'default_tags', type: 'stringMap' },
  ignoreTags: { tf: 'ignore_tags', type: 'stringList' },
  alias: { tf: 'alias', type: 'string' },
  assumeRole: {
    tf: 'assume_role',
    list: true,
    block: {
      agencyName: { tf: 'agency_name', type: 'string', required: true },
      domainName: { tf: 'domain_name', type: 'string' },
      domainId: { tf: 'domain_id', type: 'string' },
      duration: { tf: 'duration', type: 'number' },
    },
  },
  assumeRoleWithOidc: {
    tf: 'assume_role_with_oidc',
    list: true,
    maxItems: 1,
    block: {
      agencyName: { tf: 'agency_name', type: 'string', required: true },
      domainId: { tf: 'domain_id', type: 'string', required: true },
      idpId: { tf: 'idp_id', type: 'string', required: true },
      idTokenFile: { tf: 'id_token_file', type: 'string' },
      idToken: { tf: 'id_token', type: 'string' },
      duration: { tf: 'duration', type: 'number' },
    },
  },
};

/** The `huaweicloud/huaweicloud` provider block. */
export class HuaweicloudProvider extends TerraformProvider {
  /** The provider's Terraform name. */
  static readonly tfResourceType = 'huaweicloud';
  /** Arguments as transcribed from `huaweicloud/provider.go` (`alias` is Terraform's meta-argument). */
  static readonly schema: BlockSchema = SCHEMA;

  /**
   * The provider a resource in `scope` uses: `explicit` if given, else the stack's default (un-aliased)
   * huaweicloud provider, else `undefined`.
   */
  static of(scope: IConstruct, explicit?: HuaweicloudProvider): HuaweicloudProvider | undefined {
    if (explicit) return explicit;
    const stack = TerraformStack.of(scope);
    const isDefault = (c: IConstruct): c is HuaweicloudProvider =>
      c instanceof HuaweicloudProvider && c.alias === undefined;
    // Providers are usually the stack's direct children: look there before walking the whole tree.
    return stack.node.children.find(isDefault) ?? stack.node.findAll().find(isDefault);
  }

  /** The config as passed in. */
  readonly config: HuaweicloudProviderConfig;

  constructor(scope: Construct, id: string, config: HuaweicloudProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: HuaweicloudProvider.tfResourceType,
      terraformGeneratorMetadata: {
        ...PROVIDER_METADATA,
        providerVersionConstraint: config.version ?? DEFAULT_PROVIDER_VERSION,
      },
      terraformProviderSource: 'huaweicloud/huaweicloud',
    });
    this.config = config;
  }

  /** The alias, for a second configuration of the provider. */
  override get alias(): string | undefined {
    return this.config?.alias;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return blockToTerraform(SCHEMA, this.config) as Record<string, unknown>;
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return blockToHclTerraform(SCHEMA, this.config) as Record<string, unknown>;
  }
}
