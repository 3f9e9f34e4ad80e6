import { TerraformProvider, TerraformStack } from '../lib/cdktf.js';
import type { Construct, IConstruct, TerraformProviderGeneratorMetadata } from '../lib/cdktf.js';
import { blockToHclTerraform, blockToTerraform } from './schema.js';
import type { BlockSchema } from './schema.js';

/**
 * The bindings were written against the provider schema at v1.97.1; older releases may lack some
 * resources (the Enterprise-era ones) or arguments.
 */
export const DEFAULT_PROVIDER_VERSION = '~> 1.97';

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
  readonly agencyName: string;
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
  /** @default - env `HW_REGION_NAME`; required when static credentials are used */
  readonly region?: string;
  /** @default - env `HW_ACCESS_KEY` */
  readonly accessKey?: string;
  /** @default - env `HW_SECRET_KEY` */
  readonly secretKey?: string;
  /** For temporary AK/SK. @default - env `HW_SECURITY_TOKEN` */
  readonly securityToken?: string;
  readonly projectId?: string;
  /** @default - the region name */
  readonly projectName?: string;
  readonly domainId?: string;
  readonly domainName?: string;
  readonly userName?: string;
  readonly userId?: string;
  readonly password?: string;
  readonly token?: string;
  readonly tenantId?: string;
  readonly tenantName?: string;
  readonly delegatedProject?: string;
  readonly agencyName?: string;
  readonly agencyDomainName?: string;
  /** @default 'https://iam.{region}.{cloud}/v3' */
  readonly authUrl?: string;
  /** @default 'myhuaweicloud.com' ('myhuaweicloud.eu' for eu-west-1xx regions) */
  readonly cloud?: string;
  readonly insecure?: boolean;
  readonly cacertFile?: string;
  readonly cert?: string;
  readonly key?: string;
  /** @default 5 */
  readonly maxRetries?: number;
  readonly enterpriseProjectId?: string;
  /** HmacSHA256 | HmacSM3 | EcdsaP256SHA256 | SM2SM3. */
  readonly signingAlgorithm?: string;
  readonly regional?: boolean;
  readonly skipCheckWebsiteType?: boolean;
  readonly skipCheckUpgrade?: boolean;
  readonly sharedConfigFile?: string;
  readonly profile?: string;
  /** Turns "can't be updated" errors on NonUpdatable fields into replacements. */
  readonly enableForceNew?: boolean;
  /** Service endpoint overrides, e.g. `{ swr: 'https://swr-api.cn-north-4.myhuaweicloud.com' }`. */
  readonly endpoints?: Record<string, string>;
  /** @default - none */
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
  static readonly tfResourceType = 'huaweicloud';
  /** Arguments as transcribed from `huaweicloud/provider.go` (`alias` is Terraform's meta-argument). */
  static readonly schema: BlockSchema = SCHEMA;

  /**
   * The provider a resource in `scope` uses: `explicit` if given, else the stack's default (un-aliased)
   * huaweicloud provider, else `undefined`.
   */
  static of(scope: IConstruct, explicit?: HuaweicloudProvider): HuaweicloudProvider | undefined {
    if (explicit) return explicit;
    return TerraformStack.of(scope)
      .node.findAll()
      .find((c): c is HuaweicloudProvider => c instanceof HuaweicloudProvider && c.alias === undefined);
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
