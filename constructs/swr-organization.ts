import { Construct, checkFramework } from './lib/cdktf.js';
import { ORGANIZATION_NAME } from './lib/rules.js';
import { check, fail } from './lib/validation.js';
import { HuaweicloudProvider } from './huaweicloud/provider.js';
import * as hw from './huaweicloud/index.js';
import { knownLoginServer } from './swr-login-server.js';
import { checkUsers } from './swr-permissions.js';
import type { SwrPermission } from './swr-permissions.js';

/** Props of an `SwrOrganization`. */
export interface SwrOrganizationProps {
  /**
   * Organization (namespace) name, unique across all of SWR: 1-64 lowercase letters, digits, '.', '_', '-';
   * starts with a letter.
   */
  readonly name: string;
  /** Users granted rights on every repository of the organization. @default - none */
  readonly permissions?: SwrPermission[];
  /**
   * Region. When known at synth it also makes `loginServer` known at synth (needed by `MirroredImage`).
   * @default - the provider's region
   */
  readonly region?: string;
  /**
   * Cloud domain of `loginServer`; set it only to override the provider's.
   * @default - the provider's `cloud`, else 'myhuaweicloud.eu' when the provider's region is eu-west-1xx, else 'myhuaweicloud.com'
   */
  readonly cloud?: string;
  /** @default - the stack's default huaweicloud provider */
  readonly provider?: HuaweicloudProvider;
}

/** An SWR organization, with optional user permissions. */
export class SwrOrganization extends Construct {
  /** The `huaweicloud_swr_organization`. */
  readonly resource: hw.SwrOrganization;
  /** The `huaweicloud_swr_organization_permissions`, when `permissions` is set. */
  readonly permissionsResource?: hw.SwrOrganizationPermissions;
  /** The name as given, usable at synth; `resource.name` is the same as a Terraform reference. */
  readonly organizationName: string;
  /**
   * `swr.{region}.{cloud}`, as the provider computes `login_server`: known at synth when the region (this one or the
   * provider's) and the cloud are, else the `login_server` attribute.
   */
  readonly loginServer: string;
  /** The region as given. */
  readonly region?: string;
  /** The cloud domain as given. */
  readonly cloud?: string;

  constructor(scope: Construct, id: string, props: SwrOrganizationProps) {
    super(scope, id);
    checkFramework(this);
    if (props.name === undefined) fail(this, 'name', props.name, 'is required');
    check(this, 'name', props.name, ORGANIZATION_NAME);
    checkUsers(this, 'permissions', props.permissions);
    this.organizationName = props.name;
    this.region = props.region;
    this.cloud = props.cloud;

    this.resource = new hw.SwrOrganization(this, 'Resource', {
      name: props.name,
      region: props.region,
      provider: props.provider,
    });
    const provider = HuaweicloudProvider.of(this, props.provider);
    this.loginServer = knownLoginServer(props.region, props.cloud, provider?.config) ?? this.resource.loginServer;

    if (props.permissions && props.permissions.length > 0) {
      this.permissionsResource = new hw.SwrOrganizationPermissions(this, 'Permissions', {
        organization: this.resource.name,
        region: props.region,
        provider: props.provider,
        users: props.permissions.map((p) => ({ userId: p.userId, userName: p.userName, permission: p.permission })),
      });
    }
  }
}
