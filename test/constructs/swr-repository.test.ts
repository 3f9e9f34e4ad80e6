import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerraformVariable, Token } from 'cdktf';
import { HuaweicloudProvider, SwrOrganization, SwrRepository, Workload } from '../../constructs/index.js';
import type { SwrRepositoryProps } from '../../constructs/index.js';
import { newStack, only, resources, synth, throwsRule } from './helpers.js';

function withOrg(extra: Partial<SwrRepositoryProps> = {}) {
  const stack = newStack();
  const org = new SwrOrganization(stack, 'org', { name: 'acme', region: 'cn-north-4' });
  const make = (props: Partial<SwrRepositoryProps> = {}) =>
    new SwrRepository(stack, 'repo', { organization: org, name: 'web', ...extra, ...props });
  return { stack, org, make };
}

describe('SwrRepository', () => {
  it('emits the repository under the organization, with its URI known at synth', () => {
    const { stack, make } = withOrg();
    const repo = make({ isPublic: true, description: 'front end', category: 'app_server' });
    assert.equal(repo.repositoryUri, 'swr.cn-north-4.myhuaweicloud.com/acme/web');
    const r = only(synth(stack), 'huaweicloud_swr_repository');
    assert.match(r.organization, /^\$\{huaweicloud_swr_organization\..*\.name\}$/);
    assert.equal(r.name, 'web');
    assert.equal(r.is_public, true);
    assert.equal(r.description, 'front end');
    assert.equal(r.category, 'app_server');
    assert.equal(r.region, 'cn-north-4');
  });

  it('depends on the organization permissions so grants exist first', () => {
    const stack = newStack();
    const org = new SwrOrganization(stack, 'org', { name: 'acme', permissions: [{ userId: 'u', permission: 'Read' }] });
    new SwrRepository(stack, 'repo', { organization: org, name: 'web' });
    assert.deepEqual(only(synth(stack), 'huaweicloud_swr_repository').depends_on.length, 1);
  });

  it('takes an organization by name, with a URI from the region or the path attribute', () => {
    const stack = newStack();
    const a = new SwrRepository(stack, 'a', { organization: 'acme', name: 'web', region: 'ap-southeast-3' });
    assert.equal(a.repositoryUri, 'swr.ap-southeast-3.myhuaweicloud.com/acme/web');
    // No region here or in the provider (HW_REGION_NAME at plan time): the path attribute.
    const bare = newStack('Bare', { providers: false });
    new HuaweicloudProvider(bare, 'hw', {});
    const b = new SwrRepository(bare, 'b', { organization: 'acme', name: 'api' });
    assert.ok(Token.isUnresolved(b.repositoryUri));
    assert.ok(Token.isUnresolved(b.loginServer));
  });

  it('emits sharing (pull only), user permissions, retention, triggers and auto-sync', () => {
    const { stack, make } = withOrg();
    const workload = new Workload(stack, 'app', {
      name: 'web',
      namespace: 'shop',
      containers: [{ name: 'web', image: 'nginx:1.27' }],
    });
    const target = new SwrOrganization(stack, 'east', { name: 'acme-east', region: 'cn-east-3' });
    make({
      sharing: [
        { account: 'partner', deadline: '2030-12-31', description: 'partner pulls' },
        { account: 'ops', deadline: 'forever' },
      ],
      permissions: [{ userId: 'u9', permission: 'Manage' }],
      retention: {
        keepDays: 30,
        exclude: [
          { kind: 'label', pattern: 'stable' },
          { kind: 'regexp', pattern: '^release-.*' },
        ],
      },
      triggers: [
        { name: 'all', workload, clusterId: 'c-9', clusterName: 'prod' },
        {
          name: 'tags',
          workload: { workloadKind: 'statefulsets', workloadName: 'db', namespace: 'data' },
          condition: { type: 'tag', tags: ['v1', 'v2'] },
          type: 'cci',
          enabled: false,
        },
        {
          name: 'rx',
          workload,
          condition: { type: 'regular', pattern: '^v[0-9]+$' },
          clusterId: 'c-123',
          container: 'web',
        },
      ],
      autoSync: [
        { targetRegion: 'cn-east-3', targetOrganization: target, override: true },
        { targetRegion: 'cn-south-1', targetOrganization: 'acme-south' },
      ],
    });
    const json = synth(stack);
    const shares = resources(json, 'huaweicloud_swr_repository_sharing');
    assert.equal(shares.length, 2);
    assert.equal(shares[0].sharing_account, 'partner');
    assert.equal(shares[0].deadline, '2030-12-31');
    assert.equal(shares[0].permission, 'pull');
    assert.equal(shares[0].description, 'partner pulls');
    assert.match(shares[0].repository, /^\$\{huaweicloud_swr_repository\..*\.name\}$/);
    assert.equal(shares[1].deadline, 'forever');

    assert.deepEqual(only(json, 'huaweicloud_swr_image_permissions').users, [{ user_id: 'u9', permission: 'Manage' }]);

    const retention = only(json, 'huaweicloud_swr_image_retention_policy');
    assert.equal(retention.type, 'date_rule');
    assert.equal(retention.number, 30);
    assert.deepEqual(retention.tag_selectors, [
      { kind: 'label', pattern: 'stable' },
      { kind: 'regexp', pattern: '^release-.*' },
    ]);

    const [all, tags, rx] = resources(json, 'huaweicloud_swr_image_trigger');
    assert.equal(all.condition_type, 'all');
    assert.equal(all.condition_value, '.*');
    assert.equal(all.workload_type, 'deployments');
    assert.equal(all.workload_name, 'web');
    assert.equal(all.namespace, 'shop');
    assert.equal(all.type, 'cce');
    assert.equal(all.cluster_name, 'prod');
    assert.equal(all.enabled, undefined);
    assert.equal(tags.condition_type, 'tag');
    assert.equal(tags.condition_value, 'v1;v2');
    assert.equal(tags.workload_type, 'statefulsets');
    assert.equal(tags.type, 'cci');
    assert.equal(tags.enabled, 'false');
    assert.equal(rx.condition_type, 'regular');
    assert.equal(rx.condition_value, '^v[0-9]+$');
    assert.equal(rx.cluster_id, 'c-123');
    assert.equal(rx.container, 'web');

    const [east, south] = resources(json, 'huaweicloud_swr_image_auto_sync');
    assert.equal(east.target_region, 'cn-east-3');
    assert.match(east.target_organization, /^\$\{huaweicloud_swr_organization\..*\.name\}$/);
    assert.equal(east.override, true);
    assert.equal(south.target_organization, 'acme-south');
  });

  it('checks auto-sync target regions against data.huaweicloud_swr_sync_regions at plan (a precondition)', () => {
    const { stack, make } = withOrg();
    const repo = make({ autoSync: [{ targetRegion: 'cn-east-3', targetOrganization: 'acme-east' }] });
    const json = synth(stack);
    assert.ok(repo.syncRegionsData);
    const data = Object.entries(json.data.huaweicloud_swr_sync_regions);
    assert.equal(data.length, 1);
    const [sync] = resources(json, 'huaweicloud_swr_image_auto_sync');
    const [pre] = sync.lifecycle.precondition;
    assert.equal(
      pre.condition,
      `\${contains(data.huaweicloud_swr_sync_regions.${data[0]![0]}.sync_regions, "cn-east-3")}`,
    );
    assert.match(pre.error_message, /MyStack\/repo: autoSync\[0\]\.targetRegion is not a region SWR synchronizes to/);

    const off = withOrg();
    off.make({ autoSync: [{ targetRegion: 'cn-east-3', targetOrganization: 'acme-east' }], checkSyncRegions: false });
    const quiet = synth(off.stack);
    assert.equal(quiet.data?.huaweicloud_swr_sync_regions, undefined);
    assert.equal(resources(quiet, 'huaweicloud_swr_image_auto_sync')[0].lifecycle, undefined);
  });

  it('keeps the latest N images with keepLatest (tag_rule)', () => {
    const { stack, make } = withOrg();
    make({ retention: { keepLatest: 10 } });
    const r = only(synth(stack), 'huaweicloud_swr_image_retention_policy');
    assert.equal(r.type, 'tag_rule');
    assert.equal(r.number, 10);
  });

  it('accepts repository names with slashes and double underscores', () => {
    const { stack } = withOrg();
    for (const [i, name] of ['a', 'team/web', 'a__b', 'web.v2-x_y', 'x'.repeat(128)].entries()) {
      new SwrRepository(stack, `r${i}`, { organization: 'acme', name });
    }
  });

  for (const [name, why] of [
    ['Web', 'uppercase'],
    ['-web', 'leading separator'],
    ['web/', 'trailing slash'],
    ['a//b', 'two slashes'],
    ['a./b', 'mixed separators'],
    ['a___b', 'three underscores'],
    ['x'.repeat(129), 'too long'],
  ] as const) {
    it(`rejects repository name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)} (${why})`, () => {
      const { make } = withOrg();
      throwsRule(() => make({ name }), {
        path: 'MyStack/repo',
        prop: 'name',
        value: JSON.stringify(name),
        rule: 'must be 1-128 lowercase letters',
      });
    });
  }

  it('rejects an organization name that breaks the SWR rules', () => {
    const stack = newStack();
    throwsRule(() => new SwrRepository(stack, 'repo', { organization: 'Acme', name: 'web' }), {
      path: 'MyStack/repo',
      prop: 'organization',
      value: '"Acme"',
      rule: 'must be 1-64 lowercase letters',
    });
  });

  it('rejects a category outside the provider set', () => {
    const { make } = withOrg();
    throwsRule(() => make({ category: 'games' as never }), {
      path: 'MyStack/repo',
      prop: 'category',
      value: '"games"',
      rule: 'must be one of app_server, linux',
    });
  });

  for (const deadline of ['2030-1-1', '2030-02-30', 'never', '31-12-2030']) {
    it(`rejects sharing deadline ${JSON.stringify(deadline)}`, () => {
      const { make } = withOrg();
      throwsRule(() => make({ sharing: [{ account: 'p', deadline }] }), {
        path: 'MyStack/repo',
        prop: 'sharing[0].deadline',
        value: JSON.stringify(deadline),
        rule: "must be a date 'YYYY-MM-DD' or 'forever'",
      });
    });
  }

  it('rejects a sharing account listed twice', () => {
    const { make } = withOrg();
    throwsRule(
      () =>
        make({
          sharing: [
            { account: 'p', deadline: 'forever' },
            { account: 'p', deadline: 'forever' },
          ],
        }),
      {
        path: 'MyStack/repo',
        prop: 'sharing[1].account',
        value: '"p"',
        rule: 'must be shared once per repository',
      },
    );
  });

  it('accepts a token deadline', () => {
    const { stack, make } = withOrg();
    const v = new TerraformVariable(stack, 'deadline', { type: 'string' });
    make({ sharing: [{ account: 'p', deadline: v.stringValue }] });
  });

  it('rejects retention with both, neither, or a bad number', () => {
    const { make } = withOrg();
    throwsRule(() => make({ retention: { keepDays: 1, keepLatest: 1 } }), {
      path: 'MyStack/repo',
      prop: 'retention',
      rule: 'must set exactly one of keepDays (date_rule) or keepLatest (tag_rule)',
    });
    const b = withOrg();
    throwsRule(() => b.make({ retention: {} }), {
      path: 'MyStack/repo',
      prop: 'retention',
      rule: 'must set exactly one of keepDays',
    });
    const c = withOrg();
    throwsRule(() => c.make({ retention: { keepLatest: 0 } }), {
      path: 'MyStack/repo',
      prop: 'retention.keepLatest',
      value: '0',
      rule: 'must be a whole number of at least 1',
    });
    const d = withOrg();
    throwsRule(() => d.make({ retention: { keepDays: 1.5 } }), {
      path: 'MyStack/repo',
      prop: 'retention.keepDays',
      value: '1.5',
      rule: 'must be a whole number of at least 1',
    });
  });

  it('rejects bad retention tag selectors', () => {
    const a = withOrg();
    throwsRule(() => a.make({ retention: { keepDays: 7, exclude: [{ kind: 'glob' as never, pattern: 'x' }] } }), {
      path: 'MyStack/repo',
      prop: 'retention.exclude[0].kind',
      value: '"glob"',
      rule: "must be 'label' or 'regexp'",
    });
    const b = withOrg();
    throwsRule(() => b.make({ retention: { keepDays: 7, exclude: [{ kind: 'regexp', pattern: '(' }] } }), {
      path: 'MyStack/repo',
      prop: 'retention.exclude[0].pattern',
      value: '"("',
      rule: 'must be a valid regular expression',
    });
    const c = withOrg();
    throwsRule(() => c.make({ retention: { keepDays: 7, exclude: [{ kind: 'label', pattern: '-bad' }] } }), {
      path: 'MyStack/repo',
      prop: 'retention.exclude[0].pattern',
      value: '"-bad"',
      rule: 'must be a tag',
    });
  });

  it('rejects triggers that break the API rules', () => {
    const target = { workloadKind: 'deployments' as const, workloadName: 'web', namespace: 'default' };
    const cases: [Partial<SwrRepositoryProps>, string, string | undefined, string][] = [
      [
        { triggers: [{ name: 't', workload: target }] },
        'triggers[0].clusterId',
        '(unset)',
        "is required when type is 'cce'",
      ],
      // The provider derives cluster_name from cluster_id, never the reverse: a name alone breaks apply.
      [
        { triggers: [{ name: 't', workload: target, clusterName: 'prod' }] },
        'triggers[0].clusterId',
        '(unset)',
        'the provider derives the name from the ID',
      ],
      [
        { triggers: [{ name: 't', workload: target, type: 'cci', condition: { type: 'tag', tags: [] } }] },
        'triggers[0].condition.tags',
        '[]',
        'must list at least one tag',
      ],
      [
        {
          triggers: [{ name: 't', workload: target, type: 'cci', condition: { type: 'tag', tags: ['ok', 'no good'] } }],
        },
        'triggers[0].condition.tags[1]',
        '"no good"',
        'must be a tag',
      ],
      [
        { triggers: [{ name: 't', workload: target, type: 'cci', condition: { type: 'regular', pattern: '[' } }] },
        'triggers[0].condition.pattern',
        '"["',
        'must be a valid regular expression',
      ],
      [
        { triggers: [{ name: 't', workload: { ...target, workloadKind: 'jobs' as never }, type: 'cci' }] },
        'triggers[0].workload.workloadKind',
        '"jobs"',
        "must be 'deployments' or 'statefulsets'",
      ],
      [
        { triggers: [{ name: 't', workload: { ...target, namespace: 'Shop' }, type: 'cci' }] },
        'triggers[0].workload.namespace',
        '"Shop"',
        'Kubernetes DNS label',
      ],
      [
        { triggers: [{ name: 't', workload: target, type: 'k8s' as never }] },
        'triggers[0].type',
        '"k8s"',
        "must be 'cce' or 'cci'",
      ],
      [
        {
          triggers: [
            { name: 't', workload: target, type: 'cci' },
            { name: 't', workload: target, type: 'cci' },
          ],
        },
        'triggers[1].name',
        '"t"',
        'must be unique within the repository',
      ],
      [{ triggers: [{ name: '', workload: target, type: 'cci' }] }, 'triggers[0].name', '""', 'must be non-empty'],
    ];
    for (const [props, prop, value, rule] of cases) {
      const { make } = withOrg();
      throwsRule(() => make(props), { path: 'MyStack/repo', prop, value, rule });
    }
  });

  it('rejects auto-sync targets that are not SWR names or regions', () => {
    const a = withOrg();
    throwsRule(() => a.make({ autoSync: [{ targetRegion: 'east', targetOrganization: 'acme' }] }), {
      path: 'MyStack/repo',
      prop: 'autoSync[0].targetRegion',
      value: '"east"',
      rule: 'must be a region ID',
    });
    const b = withOrg();
    throwsRule(() => b.make({ autoSync: [{ targetRegion: 'cn-east-3', targetOrganization: 'Acme' }] }), {
      path: 'MyStack/repo',
      prop: 'autoSync[0].targetOrganization',
      value: '"Acme"',
      rule: 'must be 1-64 lowercase letters',
    });
  });

  it('rejects repository permissions with a bad level', () => {
    const { make } = withOrg();
    throwsRule(() => make({ permissions: [{ userId: 'u', permission: 'read' as never }] }), {
      path: 'MyStack/repo',
      prop: 'permissions[0].permission',
      value: '"read"',
      rule: "must be 'Read', 'Write' or 'Manage'",
    });
  });
});
