import type { Construct, IResolvable } from '../lib/cdktf.js';
import { HuaweicloudResource, REGION } from './resource.js';
import type { RegionalConfig } from './resource.js';
import type { BlockSchema } from './schema.js';

/**
 * `huaweicloud_swr_temporary_login_command`: asks SWR for a temporary login (valid for hours, see `xExpireAt`) at
 * apply time. Unlike the long-term login key it needs no AK/SK at synth, but the credential lands in the Terraform
 * state (`auths[*].auth` is sensitive, not secret) and expires: re-create the resource to refresh it.
 */
export interface SwrTemporaryLoginCommandConfig extends RegionalConfig {
  /** Request the enhanced (IAM-token-scoped) command. @default false */
  readonly enhanced?: boolean | IResolvable;
  /** "true" turns changes into a replacement. @default - the provider's enable_force_new */
  readonly enableForceNew?: 'true' | 'false';
}

const SCHEMA: BlockSchema = {
  ...REGION,
  enhanced: { tf: 'enhanced', type: 'bool' },
  enableForceNew: { tf: 'enable_force_new', type: 'string' },
};

/** A `huaweicloud_swr_temporary_login_command` resource. */
export class SwrTemporaryLoginCommand extends HuaweicloudResource<SwrTemporaryLoginCommandConfig> {
  /** The Terraform resource type, `huaweicloud_swr_temporary_login_command`. */
  static readonly tfResourceType = 'huaweicloud_swr_temporary_login_command';
  /** Arguments as transcribed from the provider's Go schema (test/constructs/fixtures/huaweicloud-schema.json pins them). */
  static readonly schema: BlockSchema = SCHEMA;

  constructor(scope: Construct, id: string, config: SwrTemporaryLoginCommandConfig = {}) {
    super(scope, id, SwrTemporaryLoginCommand.tfResourceType, SCHEMA, config);
  }

  /** The full `docker login -u … -p … host` command: it holds the password. */
  get xSwrDockerLogin(): string {
    return this.getStringAttribute('x_swr_docker_login');
  }
  /** List of `{ key: registry host, auth: base64(user:password) }` (auth is sensitive). */
  get auths(): IResolvable {
    return this.interpolationForAttribute('auths');
  }
  /** When the login expires. */
  get xExpireAt(): string {
    return this.getStringAttribute('x_expire_at');
  }
}
