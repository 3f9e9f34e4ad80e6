import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerraformOutput, Testing } from 'cdktf';
import { huaweicloud as hw, HuaweicloudProvider } from '../../constructs/index.js';
import { newStack, only, synth, throwsRule } from './helpers.js';

describe('huaweicloud bindings', () => {
  it('render the provider block with source, version constraint and no credentials by default', () => {
    const stack = newStack('S', { providers: false });
    new HuaweicloudProvider(stack, 'hw', {
      region: 'cn-north-4',
      maxRetries: 3,
      endpoints: { swr: 'https://swr-api.example' },
    });
    const json = synth(stack);
    assert.deepEqual(json.terraform.required_providers.huaweicloud, {
      source: 'huaweicloud/huaweicloud',
      version: '~> 1.97',
    });
    assert.deepEqual(json.provider.huaweicloud, [
      { region: 'cn-north-4', max_retries: 3, endpoints: { swr: 'https://swr-api.example' } },
    ]);
  });

  it('render assume_role blocks, aliases and a custom version', () => {
    const stack = newStack('S', { providers: false });
    new HuaweicloudProvider(stack, 'hw', {
      version: '>= 1.80.0',
      alias: 'eu',
      region: 'eu-west-101',
      assumeRole: [{ agencyName: 'ops', domainName: 'acme', duration: 3600 }],
      enableForceNew: true,
    });
    const json = synth(stack);
    assert.equal(json.terraform.required_providers.huaweicloud.version, '>= 1.80.0');
    assert.deepEqual(json.provider.huaweicloud[0], {
      alias: 'eu',
      region: 'eu-west-101',
      enable_force_new: true,
      assume_role: [{ agency_name: 'ops', domain_name: 'acme', duration: 3600 }],
    });
  });

  it('map every argument of the eight SWR resources to the provider schema names', () => {
    const stack = newStack();
    new hw.SwrOrganization(stack, 'org', { name: 'acme', region: 'cn-north-4', timeouts: { create: '10m' } });
    new hw.SwrOrganizationPermissions(stack, 'orgp', {
      organization: 'acme',
      users: [{ userId: 'u1', userName: 'alice', permission: 'Manage' }],
    });
    new hw.SwrRepository(stack, 'repo', {
      organization: 'acme',
      name: 'web',
      isPublic: true,
      description: 'd',
      category: 'linux',
      timeouts: { update: '3m' },
    });
    new hw.SwrRepositorySharing(stack, 'share', {
      organization: 'acme',
      repository: 'web',
      sharingAccount: 'friend',
      deadline: '2030-01-31',
      permission: 'pull',
      description: 'x',
      // The Go schema declares only a default timeout (resource_huaweicloud_swr_repository_sharing.go).
      timeouts: { default: '4m' },
    });
    new hw.SwrImagePermissions(stack, 'imgp', {
      organization: 'acme',
      repository: 'web',
      users: [{ userId: 'u2', permission: 'Read' }],
    });
    new hw.SwrImageRetentionPolicy(stack, 'ret', {
      organization: 'acme',
      repository: 'web',
      type: 'date_rule',
      number: 30,
      tagSelectors: [{ kind: 'regexp', pattern: '^v1' }],
    });
    new hw.SwrImageTrigger(stack, 'trig', {
      organization: 'acme',
      repository: 'web',
      name: 't1',
      workloadType: 'deployments',
      workloadName: 'web',
      namespace: 'default',
      conditionType: 'tag',
      conditionValue: 'v1;v2',
      clusterId: 'c-1',
      clusterName: 'prod',
      container: 'web',
      type: 'cce',
      enabled: 'true',
    });
    new hw.SwrImageAutoSync(stack, 'sync', {
      organization: 'acme',
      repository: 'web',
      targetRegion: 'cn-east-3',
      targetOrganization: 'acme-east',
      override: true,
    });
    const json = synth(stack);
    assert.deepEqual(only(json, 'huaweicloud_swr_organization'), {
      name: 'acme',
      region: 'cn-north-4',
      timeouts: { create: '10m' },
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_organization_permissions'), {
      organization: 'acme',
      users: [{ user_id: 'u1', user_name: 'alice', permission: 'Manage' }],
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_repository'), {
      organization: 'acme',
      name: 'web',
      is_public: true,
      description: 'd',
      category: 'linux',
      timeouts: { update: '3m' },
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_repository_sharing'), {
      organization: 'acme',
      repository: 'web',
      sharing_account: 'friend',
      deadline: '2030-01-31',
      permission: 'pull',
      description: 'x',
      timeouts: { default: '4m' },
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_image_permissions'), {
      organization: 'acme',
      repository: 'web',
      users: [{ user_id: 'u2', permission: 'Read' }],
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_image_retention_policy'), {
      organization: 'acme',
      repository: 'web',
      type: 'date_rule',
      number: 30,
      tag_selectors: [{ kind: 'regexp', pattern: '^v1' }],
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_image_trigger'), {
      organization: 'acme',
      repository: 'web',
      name: 't1',
      workload_type: 'deployments',
      workload_name: 'web',
      namespace: 'default',
      condition_type: 'tag',
      condition_value: 'v1;v2',
      cluster_id: 'c-1',
      cluster_name: 'prod',
      container: 'web',
      type: 'cce',
      enabled: 'true',
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_image_auto_sync'), {
      organization: 'acme',
      repository: 'web',
      target_region: 'cn-east-3',
      target_organization: 'acme-east',
      override: true,
    });
  });

  it('expose computed attributes as Terraform references', () => {
    const stack = newStack();
    const org = new hw.SwrOrganization(stack, 'org', { name: 'acme' });
    const repo = new hw.SwrRepository(stack, 'repo', { organization: org.name, name: 'web' });
    new hw.SwrImageTrigger(stack, 'trig', {
      organization: org.name,
      repository: repo.name,
      name: 't',
      workloadType: 'deployments',
      workloadName: 'web',
      namespace: 'default',
      conditionType: 'all',
      conditionValue: '.*',
      clusterName: org.loginServer,
    });
    const json = synth(stack);
    const trigger = only(json, 'huaweicloud_swr_image_trigger');
    assert.match(trigger.organization, /^\$\{huaweicloud_swr_organization\.org(_[0-9A-F]+)?\.name\}$/);
    assert.match(trigger.repository, /^\$\{huaweicloud_swr_repository\.repo(_[0-9A-F]+)?\.name\}$/);
    assert.match(trigger.cluster_name, /\.login_server\}$/);
  });

  it('fail synth validation when no huaweicloud provider is in the stack', () => {
    const stack = newStack('NoProvider', { providers: false });
    new hw.SwrOrganization(stack, 'org', { name: 'acme' });
    assert.throws(() => Testing.synth(stack, true), /huaweicloud/);
  });

  it('render the same arguments in HCL output', () => {
    const stack = newStack();
    new hw.SwrRepository(stack, 'repo', {
      organization: 'acme',
      name: 'web',
      isPublic: false,
      timeouts: { create: '1m' },
    });
    new hw.SwrImagePermissions(stack, 'imgp', {
      organization: 'acme',
      repository: 'web',
      users: [{ userId: 'u2', permission: 'Read' }],
    });
    const hcl = Testing.synthHcl(stack) as string;
    assert.match(hcl, /resource "huaweicloud_swr_repository" "repo"/);
    assert.match(hcl, /is_public\s*=\s*false/);
    assert.match(hcl, /timeouts = \{\s*create = "1m"\s*\}|timeouts \{\s*create = "1m"\s*\}/);
    assert.match(hcl, /users \{[^}]*user_id = "u2"[^}]*\}/);
    assert.match(hcl, /users \{[^}]*permission = "Read"[^}]*\}/);
  });
});

describe('bindings added for tags, manual sync, temporary login and the SWR data sources', () => {
  it('synthesizes their arguments under the provider names, and data sources under data.*', () => {
    const stack = newStack();
    new hw.SwrRepositoryTag(stack, 'tag', {
      organization: 'acme',
      repository: 'web',
      sourceTag: '1.4.2',
      destinationTag: 'stable',
      override: true,
      enableForceNew: 'true',
    });
    new hw.SwrImageManualSync(stack, 'copy', {
      organization: 'acme',
      repository: 'web',
      imageTag: ['1.4.2', 'stable'],
      targetRegion: 'cn-east-3',
      targetOrganization: 'acme-east',
    });
    const login = new hw.SwrTemporaryLoginCommand(stack, 'login', { region: 'cn-north-4' });
    new hw.DataSwrOrganizations(stack, 'orgs', { name: 'acme' });
    new hw.DataSwrRepositories(stack, 'repos', { organization: 'acme', isPublic: 'false' });
    const tags = new hw.DataSwrImageTags(stack, 'tags', { organization: 'acme', repository: 'web', name: 'stable' });
    const regions = new hw.DataSwrSyncRegions(stack, 'regions');
    const json = synth(stack);
    assert.deepEqual(only(json, 'huaweicloud_swr_repository_tag'), {
      organization: 'acme',
      repository: 'web',
      source_tag: '1.4.2',
      destination_tag: 'stable',
      override: true,
      enable_force_new: 'true',
    });
    assert.deepEqual(only(json, 'huaweicloud_swr_image_manual_sync').image_tag, ['1.4.2', 'stable']);
    assert.deepEqual(only(json, 'huaweicloud_swr_temporary_login_command'), { region: 'cn-north-4' });
    assert.deepEqual(Object.values(json.data.huaweicloud_swr_organizations), [{ name: 'acme' }]);
    assert.deepEqual(Object.values(json.data.huaweicloud_swr_repositories), [
      { organization: 'acme', is_public: 'false' },
    ]);
    assert.deepEqual(Object.values(json.data.huaweicloud_swr_image_tags), [
      { organization: 'acme', repository: 'web', name: 'stable' },
    ]);
    assert.deepEqual(Object.values(json.data.huaweicloud_swr_sync_regions), [{}]);
    assert.match(String(regions.syncRegions), /TfToken/);
    new TerraformOutput(stack, 'tagsOut', { value: tags.imageTags });
    new TerraformOutput(stack, 'authsOut', { value: login.auths, sensitive: true });
    const out = synth(stack).output;
    assert.equal(out.tagsOut.value, '${data.huaweicloud_swr_image_tags.tags.image_tags}');
    assert.equal(out.authsOut.value, '${huaweicloud_swr_temporary_login_command.login.auths}');
  });

  it('refuses a missing required argument from JavaScript callers, naming it', () => {
    const stack = newStack();
    throwsRule(() => new hw.DataSwrImageTags(stack, 'tags', { organization: 'acme' } as never), {
      path: 'MyStack/tags',
      prop: 'repository',
      rule: "is required (the provider's `repository`)",
    });
  });
});
