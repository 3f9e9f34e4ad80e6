import { Construct } from './lib/cdktf.js';
import { ORGANIZATION_NAME } from './lib/rules.js';
import { check, fail, isUnresolved } from './lib/validation.js';
import type { HuaweicloudProvider } from './huaweicloud/provider.js';
import * as hw from './huaweicloud/index.js';
import { swrLoginServer } from './swr-login-server.js';
import { checkUsers } from './swr-permissions.js';
import type { SwrPermission } from './swr-permissions.js';

export interface SwrOrganizationProps {
  /**
   * Organization (namespace) name, unique across all of SWR: 1-64 lowercase letters, digits, '.', '_', '-';
   * starts with a letter (swr-facts §5).
   */
  readonly name: string;
  /** Users granted rights on every repository of the organization. @default - none */
  readonly permissions?: SwrPermission[];
  /**
   * Region. When known at synth it also makes `loginServer` known at synth (needed by `MirroredImage`).
   * @default - the provider's region
   */
  readonly region?: string;
  /** Cloud domain. @default 'myhuaweicloud.com' ('myhuaweicloud.eu' for eu-west-1xx regions) */
  readonly cloud?: string;
  /** @default - the stack's default huaweicloud provider */
  readonly provider?: HuaweicloudProvider;
}

/** An SWR organization, with optional user permissions (DESIGN §6). */
export class SwrOrganization extends Construct {
  readonly resource: hw.SwrOrganization;
  readonly permissionsResource?: hw.SwrOrganizationPermissions;
  /** The name as given, usable at synth; `resource.name` is the same as a Terraform reference. */
  readonly organizationName: string;
  /** `swr.{region}.{cloud}`: known at synth when `region` is, else the `login_server` attribute. */
  readonly loginServer: string;
  readonly region?: string;
  readonly cloud?: string;

  constructor(scope: Construct, id: string, props: SwrOrganizationProps) {
    super(scope, id);
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
    this.loginServer =
      props.region !== undefined && !isUnresolved(props.region)
        ? swrLoginServer(props.region, props.cloud)
        : this.resource.loginServer;

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
