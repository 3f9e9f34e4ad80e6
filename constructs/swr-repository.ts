import { Construct, Fn, checkFramework } from './lib/cdktf.js';
import type { TerraformResource } from './lib/cdktf.js';
import {
  IMAGE_TAG,
  ORGANIZATION_NAME,
  REPOSITORY_NAME,
  SHARING_DEADLINE,
  K8S_LABEL_NAME,
  K8S_SUBDOMAIN,
} from './lib/rules.js';
import type { Rule } from './lib/rules.js';
import { check, fail, isUnresolved } from './lib/validation.js';
import { HuaweicloudProvider } from './huaweicloud/provider.js';
import * as hw from './huaweicloud/index.js';
import { SWR_REPOSITORY_CATEGORIES } from './huaweicloud/swr-repository.js';
import type { SwrRepositoryCategory } from './huaweicloud/swr-repository.js';
import { SwrOrganization } from './swr-organization.js';
import { knownLoginServer } from './swr-login-server.js';
import { checkUsers } from './swr-permissions.js';
import type { SwrPermission } from './swr-permissions.js';

/** Share the repository with another account; SWR only allows pull (`huaweicloud_swr_repository_sharing`). */
export interface SwrRepositorySharing {
  /** Account (domain) name; it must already exist. */
  readonly account: string;
  /** `YYYY-MM-DD` (UTC; the share ends at 00:00 the next day) or `forever`. */
  readonly deadline: string;
  /** @default - none */
  readonly description?: string;
}

/** Tags a retention policy never deletes. */
export interface SwrRetentionTagSelector {
  /** `label`: an exact tag; `regexp`: a regular expression. */
  readonly kind: 'label' | 'regexp';
  /** The tag, or the regular expression. */
  readonly pattern: string;
}

/** Exactly one of `keepDays` (SWR `date_rule`) or `keepLatest` (`tag_rule`). */
export interface SwrRetention {
  /** Delete images older than this many days. @default - unset (then keepLatest) */
  readonly keepDays?: number;
  /** Keep only this many most recent images. @default - unset (then keepDays) */
  readonly keepLatest?: number;
  /** Tags matching these are never deleted by the policy. @default - none */
  readonly exclude?: SwrRetentionTagSelector[];
}

/** Which pushes fire a trigger (`condition_type` / `condition_value`). */
export type SwrTriggerCondition =
  | {
      /** Every push. */
      readonly type: 'all';
    }
  | {
      /** Pushes of the listed tags. */
      readonly type: 'tag';
      /** The tags. */
      readonly tags: string[];
    }
  | {
      /** Pushes of tags matching a regular expression. */
      readonly type: 'regular';
      /** The regular expression. */
      readonly pattern: string;
    };

/** The workload a trigger redeploys; a `Workload` construct satisfies it. */
export interface SwrTriggerTarget {
  /** The SWR API's plural kind. */
  readonly workloadKind: 'deployments' | 'statefulsets';
  /** The Deployment / StatefulSet name. */
  readonly workloadName: string;
  /** Its namespace. */
  readonly namespace: string;
}

/** Redeploy a CCE or CCI workload when an image is pushed (`huaweicloud_swr_image_trigger`). */
export interface SwrRepositoryTrigger {
  /** Trigger name, unique in the repository. */
  readonly name: string;
  /** What to redeploy: a `Workload`, or kind, name and namespace. */
  readonly workload: SwrTriggerTarget;
  /** Which pushes fire it. @default { type: 'all' } */
  readonly condition?: SwrTriggerCondition;
  /** Where the workload runs. @default 'cce' */
  readonly type?: 'cce' | 'cci';
  /**
   * CCE cluster ID; required when `type` is 'cce'. The provider looks the name up from the ID, never the reverse,
   * and the SWR API needs the ID for CCE (`huaweicloud/services/swr/resource_huaweicloud_swr_image_trigger.go`).
   * @default - none (only valid with type 'cci')
   */
  readonly clusterId?: string;
  /** CCE cluster name. @default - looked up by the provider from `clusterId` */
  readonly clusterName?: string;
  /** Container to update. @default - every container using the image */
  readonly container?: string;
  /** @default true */
  readonly enabled?: boolean;
}

/** Copy every new image to an organization in another region (`huaweicloud_swr_image_auto_sync`). */
export interface SwrRepositoryAutoSync {
  /** A region SWR synchronizes to from this one (checked at plan, see `checkSyncRegions`). */
  readonly targetRegion: string;
  /** Organization there: a name or an `SwrOrganization`. It must exist. */
  readonly targetOrganization: string | SwrOrganization;
  /** Overwrite an existing tag at the target. @default false */
  readonly override?: boolean;
}

/** Props of an `SwrRepository`. */
export interface SwrRepositoryProps {
  /** The organization: an `SwrOrganization` (created first) or an existing organization's name. */
  readonly organization: SwrOrganization | string;
  /** 1-128 lowercase letters, digits, '.', '/', '_', '-'. */
  readonly name: string;
  /** Anyone may pull. @default false */
  readonly isPublic?: boolean;
  /** @default - none */
  readonly description?: string;
  /** @default - unset (SWR shows 'other') */
  readonly category?: SwrRepositoryCategory;
  /** Share (pull) with other accounts. @default - none */
  readonly sharing?: SwrRepositorySharing[];
  /** User rights on this repository. @default - none */
  readonly permissions?: SwrPermission[];
  /** Image retention policy. @default - none (images are kept) */
  readonly retention?: SwrRetention;
  /** Redeploy workloads on push. @default - none */
  readonly triggers?: SwrRepositoryTrigger[];
  /** Copy every new image to other regions. @default - none */
  readonly autoSync?: SwrRepositoryAutoSync[];
  /**
   * Read `data.huaweicloud_swr_sync_regions` and fail `terraform plan` (a lifecycle precondition) when an
   * `autoSync` target region is not one SWR can synchronize to from this region. Needs read access to SWR at plan.
   * @default true
   */
  readonly checkSyncRegions?: boolean;
  /** @default - the organization's region, else the provider's */
  readonly region?: string;
  /**
   * Cloud domain, for `loginServer` when `organization` is a name.
   * @default - the provider's `cloud`, else by the provider's region as the provider does
   */
  readonly cloud?: string;
  /** @default - the organization's provider, else the stack's default */
  readonly provider?: HuaweicloudProvider;
}

const REGION_ID: Rule<string> = {
  text: "must be a region ID such as 'cn-north-4'",
  test: (v) => /^[a-z]{2}-[a-z]+-[0-9]+$/.test(v),
};

/** An SWR repository and the per-repository features. */
export class SwrRepository extends Construct {
  /** The `huaweicloud_swr_repository`. */
  readonly resource: hw.SwrRepository;
  /** The name as given, usable at synth. */
  readonly repositoryName: string;
  /** The organization's name as given, usable at synth. */
  readonly organizationName: string;
  /** Registry host, known at synth when the organization's region is. */
  readonly loginServer: string;
  /** `loginServer/organization/name`. */
  readonly repositoryUri: string;
  /** One `huaweicloud_swr_repository_sharing` per `sharing` entry. */
  readonly sharingResources: hw.SwrRepositorySharing[] = [];
  /** The `huaweicloud_swr_image_permissions`, when `permissions` is set. */
  readonly permissionsResource?: hw.SwrImagePermissions;
  /** The `huaweicloud_swr_image_retention_policy`, when `retention` is set. */
  readonly retentionResource?: hw.SwrImageRetentionPolicy;
  /** One `huaweicloud_swr_image_trigger` per trigger. */
  readonly triggerResources: hw.SwrImageTrigger[] = [];
  /** One `huaweicloud_swr_image_auto_sync` per `autoSync` entry. */
  readonly autoSyncResources: hw.SwrImageAutoSync[] = [];
  /** The sync-regions lookup the auto-sync targets are checked against, when there is one. */
  readonly syncRegionsData?: hw.DataSwrSyncRegions;

  constructor(scope: Construct, id: string, props: SwrRepositoryProps) {
    super(scope, id);
    checkFramework(this);
    if (props.name === undefined) fail(this, 'name', props.name, 'is required');
    check(this, 'name', props.name, REPOSITORY_NAME);
    const org = props.organization;
    const orgConstruct = org instanceof SwrOrganization ? org : undefined;
    if (typeof org === 'string') check(this, 'organization', org, ORGANIZATION_NAME);
    if (
      props.category !== undefined &&
      !isUnresolved(props.category) &&
      !SWR_REPOSITORY_CATEGORIES.includes(props.category)
    ) {
      fail(this, 'category', props.category, `must be one of ${SWR_REPOSITORY_CATEGORIES.join(', ')}`);
    }
    checkUsers(this, 'permissions', props.permissions);

    this.repositoryName = props.name;
    this.organizationName = orgConstruct ? orgConstruct.organizationName : (org as string);
    const region = props.region ?? orgConstruct?.region;
    const provider = props.provider ?? (orgConstruct?.resource.provider as HuaweicloudProvider | undefined);
    // Referencing the organization resource's name (not the literal) makes Terraform create it first.
    const organization = orgConstruct ? orgConstruct.resource.name : (org as string);
    const dependsOn: TerraformResource[] = orgConstruct?.permissionsResource ? [orgConstruct.permissionsResource] : [];
    const common = { region, provider };

    this.resource = new hw.SwrRepository(this, 'Resource', {
      ...common,
      organization,
      name: props.name,
      isPublic: props.isPublic,
      description: props.description,
      category: props.category,
      dependsOn,
    });
    const known = orgConstruct
      ? orgConstruct.loginServer
      : knownLoginServer(region, props.cloud, HuaweicloudProvider.of(this, provider)?.config);
    // `path` is `host/org/repo`; its first element is the host.
    this.loginServer = known ?? (Fn.element(Fn.split('/', this.resource.path), 0) as string);
    this.repositoryUri =
      known !== undefined ? `${this.loginServer}/${this.organizationName}/${props.name}` : this.resource.path;

    const repo = { ...common, organization, repository: this.resource.name };

    const accounts = new Set<string>();
    (props.sharing ?? []).forEach((s, i) => {
      const at = `sharing[${i}]`;
      if (!isUnresolved(s.account)) {
        if (!s.account) fail(this, `${at}.account`, s.account, 'must be a non-empty account name');
        if (accounts.has(s.account)) fail(this, `${at}.account`, s.account, 'must be shared once per repository');
        accounts.add(s.account);
      }
      check(this, `${at}.deadline`, s.deadline, SHARING_DEADLINE);
      this.sharingResources.push(
        new hw.SwrRepositorySharing(this, `Sharing${i}`, {
          ...repo,
          sharingAccount: s.account,
          deadline: s.deadline,
          permission: 'pull',
          description: s.description,
        }),
      );
    });

    if (props.permissions && props.permissions.length > 0) {
      this.permissionsResource = new hw.SwrImagePermissions(this, 'Permissions', {
        ...repo,
        users: props.permissions.map((p) => ({ userId: p.userId, userName: p.userName, permission: p.permission })),
      });
    }

    if (props.retention) this.retentionResource = this.addRetention(props.retention, repo);

    const triggerNames = new Set<string>();
    (props.triggers ?? []).forEach((t, i) => {
      const at = `triggers[${i}]`;
      if (!isUnresolved(t.name)) {
        if (typeof t.name !== 'string' || t.name.length === 0) fail(this, `${at}.name`, t.name, 'must be non-empty');
        if (triggerNames.has(t.name)) fail(this, `${at}.name`, t.name, 'must be unique within the repository');
        triggerNames.add(t.name);
      }
      this.triggerResources.push(
        new hw.SwrImageTrigger(this, `Trigger${i}`, { ...repo, ...this.triggerConfig(t, at) }),
      );
    });

    const syncRegions =
      (props.autoSync ?? []).length > 0 && props.checkSyncRegions !== false
        ? new hw.DataSwrSyncRegions(this, 'SyncRegions', common)
        : undefined;
    this.syncRegionsData = syncRegions;
    (props.autoSync ?? []).forEach((a, i) => {
      const at = `autoSync[${i}]`;
      check(this, `${at}.targetRegion`, a.targetRegion, REGION_ID);
      const target = a.targetOrganization;
      if (typeof target === 'string') check(this, `${at}.targetOrganization`, target, ORGANIZATION_NAME);
      this.autoSyncResources.push(
        new hw.SwrImageAutoSync(this, `AutoSync${i}`, {
          ...repo,
          targetRegion: a.targetRegion,
          targetOrganization: target instanceof SwrOrganization ? target.resource.name : target,
          override: a.override,
          ...(syncRegions
            ? {
                lifecycle: {
                  precondition: [
                    {
                      condition: Fn.contains(syncRegions.syncRegions, a.targetRegion),
                      errorMessage: `${this.node.path}: autoSync[${i}].targetRegion is not a region SWR synchronizes to from this region (data.huaweicloud_swr_sync_regions)`,
                    },
                  ],
                },
              }
            : {}),
        }),
      );
    });
  }

  private addRetention(
    r: SwrRetention,
    repo: { organization: string; repository: string },
  ): hw.SwrImageRetentionPolicy {
    const both = r.keepDays !== undefined && r.keepLatest !== undefined;
    const none = r.keepDays === undefined && r.keepLatest === undefined;
    if (both || none) {
      fail(this, 'retention', r, 'must set exactly one of keepDays (date_rule) or keepLatest (tag_rule)');
    }
    const prop = r.keepDays !== undefined ? 'retention.keepDays' : 'retention.keepLatest';
    const number = (r.keepDays ?? r.keepLatest) as number;
    if (!isUnresolved(number) && !(Number.isInteger(number) && number >= 1)) {
      fail(this, prop, number, 'must be a whole number of at least 1');
    }
    (r.exclude ?? []).forEach((s, i) => {
      const at = `retention.exclude[${i}]`;
      if (s.kind !== 'label' && s.kind !== 'regexp') fail(this, `${at}.kind`, s.kind, "must be 'label' or 'regexp'");
      if (isUnresolved(s.pattern)) return;
      if (!s.pattern) fail(this, `${at}.pattern`, s.pattern, 'must be non-empty');
      if (s.kind === 'label') check(this, `${at}.pattern`, s.pattern, IMAGE_TAG);
      else if (!compiles(s.pattern)) fail(this, `${at}.pattern`, s.pattern, 'must be a valid regular expression');
    });
    return new hw.SwrImageRetentionPolicy(this, 'Retention', {
      ...repo,
      region: this.resource.config.region,
      provider: this.resource.provider,
      type: r.keepDays !== undefined ? 'date_rule' : 'tag_rule',
      number,
      tagSelectors: r.exclude?.map((s) => ({ kind: s.kind, pattern: s.pattern })),
    });
  }

  private triggerConfig(t: SwrRepositoryTrigger, at: string) {
    const type = t.type ?? 'cce';
    if (type !== 'cce' && type !== 'cci') fail(this, `${at}.type`, type, "must be 'cce' or 'cci'");
    // The provider derives cluster_name from cluster_id and sends both; with a name alone the request lacks the ID
    // a CCE trigger needs (huaweicloud/services/swr/resource_huaweicloud_swr_image_trigger.go, create).
    if (type === 'cce' && t.clusterId === undefined) {
      fail(
        this,
        `${at}.clusterId`,
        t.clusterId,
        "is required when type is 'cce' (clusterName alone is not enough: the provider derives the name from the ID, not the reverse)",
      );
    }
    const w = t.workload;
    if (w.workloadKind !== 'deployments' && w.workloadKind !== 'statefulsets') {
      fail(this, `${at}.workload.workloadKind`, w.workloadKind, "must be 'deployments' or 'statefulsets'");
    }
    check(this, `${at}.workload.workloadName`, w.workloadName, K8S_SUBDOMAIN);
    check(this, `${at}.workload.namespace`, w.namespace, K8S_LABEL_NAME);
    const condition = t.condition ?? { type: 'all' as const };
    let conditionValue: string;
    switch (condition.type) {
      case 'all':
        conditionValue = '.*';
        break;
      case 'tag':
        if (!Array.isArray(condition.tags) || condition.tags.length === 0) {
          fail(this, `${at}.condition.tags`, condition.tags, 'must list at least one tag');
        }
        condition.tags.forEach((tag, j) => {
          check(this, `${at}.condition.tags[${j}]`, tag, IMAGE_TAG);
        });
        // The API separates tags with ';' (`condition_value`).
        conditionValue = condition.tags.join(';');
        break;
      case 'regular':
        if (!isUnresolved(condition.pattern) && !compiles(condition.pattern)) {
          fail(this, `${at}.condition.pattern`, condition.pattern, 'must be a valid regular expression');
        }
        conditionValue = condition.pattern;
        break;
      default:
        fail(this, `${at}.condition.type`, (condition as { type: unknown }).type, "must be 'all', 'tag' or 'regular'");
    }
    return {
      name: t.name,
      workloadType: w.workloadKind,
      workloadName: w.workloadName,
      namespace: w.namespace,
      conditionType: condition.type,
      conditionValue,
      clusterId: t.clusterId,
      clusterName: t.clusterName,
      container: t.container,
      type,
      // The provider models `enabled` as the strings "true" / "false".
      enabled: t.enabled === undefined ? undefined : String(t.enabled),
    };
  }
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
