import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerraformVariable, Token } from 'cdktf';
import { HuaweicloudProvider, ImagePullSecret, SwrOrganization, SwrRepository } from '../../constructs/index.js';
import { newStack, only, resources, synth, throwsRule } from './helpers.js';

describe('SwrOrganization', () => {
  it('emits the organization and its permissions, and a login server known at synth', () => {
    const stack = newStack();
    const org = new SwrOrganization(stack, 'org', {
      name: 'acme-platform',
      region: 'cn-north-4',
      permissions: [
        { userId: 'u1', userName: 'ci', permission: 'Write' },
        { userId: 'u2', permission: 'Read' },
      ],
    });
    assert.equal(org.loginServer, 'swr.cn-north-4.myhuaweicloud.com');
    assert.equal(org.organizationName, 'acme-platform');
    const json = synth(stack);
    assert.deepEqual(only(json, 'huaweicloud_swr_organization'), { name: 'acme-platform', region: 'cn-north-4' });
    const perms = only(json, 'huaweicloud_swr_organization_permissions');
    assert.match(perms.organization, /^\$\{huaweicloud_swr_organization\..*\.name\}$/);
    assert.deepEqual(perms.users, [
      { user_id: 'u1', user_name: 'ci', permission: 'Write' },
      { user_id: 'u2', permission: 'Read' },
    ]);
  });

  it('omits the permissions resource without permissions', () => {
    const stack = newStack();
    new SwrOrganization(stack, 'org', { name: 'acme' });
    assert.equal(resources(synth(stack), 'huaweicloud_swr_organization_permissions').length, 0);
  });

  it('picks the cloud as the provider does: the cloud prop, the provider cloud, else .eu by the provider region', () => {
    const stack = newStack(); // provider region cn-north-4, no cloud
    // getCloudDomain looks at the provider's region, not the resource's.
    assert.equal(
      new SwrOrganization(stack, 'eu', { name: 'a', region: 'eu-west-101' }).loginServer,
      'swr.eu-west-101.myhuaweicloud.com',
    );
    assert.equal(
      new SwrOrganization(stack, 'c', { name: 'b', region: 'eu-de', cloud: 'otc.t-systems.com' }).loginServer,
      'swr.eu-de.otc.t-systems.com',
    );
    assert.equal(
      new SwrOrganization(stack, 'p', { name: 'p' }).loginServer,
      'swr.cn-north-4.myhuaweicloud.com',
      'the provider region',
    );

    const eu = newStack('Eu', { providers: false });
    new HuaweicloudProvider(eu, 'hw', { region: 'eu-west-101' });
    assert.equal(new SwrOrganization(eu, 'a', { name: 'a' }).loginServer, 'swr.eu-west-101.myhuaweicloud.eu');
    assert.equal(
      new SwrOrganization(eu, 'b', { name: 'b', region: 'eu-west-0' }).loginServer,
      'swr.eu-west-0.myhuaweicloud.eu',
    );
  });

  it("honours the provider's cloud for loginServer and repository URIs", () => {
    const stack = newStack('Cloud', { providers: false });
    new HuaweicloudProvider(stack, 'hw', { region: 'eu-de', cloud: 'otc.t-systems.com' });
    const org = new SwrOrganization(stack, 'org', { name: 'acme' });
    assert.equal(org.loginServer, 'swr.eu-de.otc.t-systems.com');
    assert.equal(
      new SwrRepository(stack, 'byName', { organization: 'acme', name: 'web' }).repositoryUri,
      'swr.eu-de.otc.t-systems.com/acme/web',
    );
    const secret = ImagePullSecret.forSwr(stack, 'pull', {
      name: 'p',
      region: 'eu-de',
      accessKey: 'AK',
      loginKey: 'a'.repeat(64),
    });
    assert.deepEqual(secret.servers, ['swr.eu-de.otc.t-systems.com']);
    // An aliased provider passed explicitly decides for its resources.
    const other = new HuaweicloudProvider(stack, 'cn', { alias: 'cn', region: 'cn-north-4' });
    assert.equal(
      new SwrOrganization(stack, 'cnOrg', { name: 'cn', provider: other }).loginServer,
      'swr.cn-north-4.myhuaweicloud.com',
    );
  });

  it('falls back to the login_server attribute when the region is not known at synth', () => {
    const stack = newStack();
    const region = new TerraformVariable(stack, 'region', { type: 'string' });
    const org = new SwrOrganization(stack, 'org', { name: 'acme', region: region.stringValue });
    assert.ok(Token.isUnresolved(org.loginServer));
    const bare = newStack('Bare', { providers: false });
    new HuaweicloudProvider(bare, 'hw', {}); // region from HW_REGION_NAME at plan time
    assert.ok(Token.isUnresolved(new SwrOrganization(bare, 'org2', { name: 'acme2' }).loginServer));
  });

  it('accepts names at the edges of the SWR rules', () => {
    const stack = newStack();
    for (const [i, name] of ['a', 'a1', 'ab', 'a.b-c_d', 'a__b', 'x'.repeat(64)].entries()) {
      new SwrOrganization(stack, `ok${i}`, { name });
    }
  });

  it('accepts a token name (checked by SWR at apply time)', () => {
    const stack = newStack();
    const v = new TerraformVariable(stack, 'n', { type: 'string' });
    new SwrOrganization(stack, 'org', { name: v.stringValue });
  });

  const bad: [string, string][] = [
    ['', 'empty'],
    ['Acme', 'uppercase'],
    ['1acme', 'starts with a digit'],
    ['acme-', 'ends with a separator'],
    ['a--b', 'two hyphens'],
    ['a._b', 'mixed separators'],
    ['a___b', 'three underscores'],
    ['a b', 'space'],
    ['a'.repeat(65), 'too long'],
  ];
  for (const [name, why] of bad) {
    it(`rejects name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…` : name)} (${why})`, () => {
      const stack = newStack();
      throwsRule(() => new SwrOrganization(stack, 'org', { name }), {
        path: 'MyStack/org',
        prop: 'name',
        value: JSON.stringify(name),
        rule: 'must be 1-64 lowercase letters',
      });
    });
  }

  it('rejects an unknown permission level', () => {
    const stack = newStack();
    throwsRule(
      () =>
        new SwrOrganization(stack, 'org', {
          name: 'acme',
          permissions: [{ userId: 'u', permission: 'Admin' as never }],
        }),
      {
        path: 'MyStack/org',
        prop: 'permissions[0].permission',
        value: '"Admin"',
        rule: "must be 'Read', 'Write' or 'Manage'",
      },
    );
  });

  it('rejects an empty user id and a user listed twice', () => {
    const stack = newStack();
    throwsRule(
      () => new SwrOrganization(stack, 'a', { name: 'acme', permissions: [{ userId: '', permission: 'Read' }] }),
      {
        path: 'MyStack/a',
        prop: 'permissions[0].userId',
        value: '""',
        rule: 'must be a non-empty IAM user ID',
      },
    );
    throwsRule(
      () =>
        new SwrOrganization(stack, 'b', {
          name: 'acme',
          permissions: [
            { userId: 'u', permission: 'Read' },
            { userId: 'u', permission: 'Write' },
          ],
        }),
      { path: 'MyStack/b', prop: 'permissions[1].userId', value: '"u"', rule: 'must appear once' },
    );
  });
});
