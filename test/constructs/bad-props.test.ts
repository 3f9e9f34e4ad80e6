import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TerraformStack } from 'cdktf';
import {
  ImagePullSecret,
  MirroredImage,
  MirrorSet,
  SwrOrganization,
  SwrRepository,
  Workload,
} from '../../constructs/index.js';
import { newStack, throwsRule } from './helpers.js';

/**
 * The bad-input corpus for constructs (issue 8): every construct refuses bad props at construction, with a message
 * `<path>: <prop> <value> <rule>` that names the prop, shows the value (never a secret) and states the rule.
 */

interface BadProps {
  name: string;
  build(stack: TerraformStack): unknown;
  prop: string;
  /** The value as the message shows it. */
  value: string;
  rule: string | RegExp;
  /** The construct's id under the stack. @default 'x' */
  id?: string;
  /** A value that must not appear in the message (a secret). */
  secret?: string;
}

const mirror = (stack: TerraformStack) =>
  new MirrorSet(stack, 'Mirror', { lockFile: '/nonexistent/swr-mirror.lock.json' });

const CASES: BadProps[] = [
  {
    name: 'organization name with a forbidden character',
    build: (s) => new SwrOrganization(s, 'x', { name: 'acme!' }),
    prop: 'name',
    value: '"acme!"',
    rule: 'SWR organization rules',
  },
  {
    name: 'organization name missing',
    build: (s) => new SwrOrganization(s, 'x', {} as never),
    prop: 'name',
    value: '(unset)',
    rule: 'is required',
  },
  {
    name: 'repository name with an upper-case letter',
    build: (s) => new SwrRepository(s, 'x', { organization: 'acme', name: 'Tools/app' }),
    prop: 'name',
    value: '"Tools/app"',
    rule: 'SWR repository rules',
  },
  {
    name: 'repository organization name invalid',
    build: (s) => new SwrRepository(s, 'x', { organization: 'a--b', name: 'app' }),
    prop: 'organization',
    value: '"a--b"',
    rule: 'SWR organization rules',
  },
  {
    name: 'repository category not one of the list',
    build: (s) => new SwrRepository(s, 'x', { organization: 'acme', name: 'app', category: 'banana' as never }),
    prop: 'category',
    value: '"banana"',
    rule: 'must be one of',
  },
  {
    name: 'retention with both keepDays and keepLatest',
    build: (s) =>
      new SwrRepository(s, 'x', { organization: 'acme', name: 'app', retention: { keepDays: 3, keepLatest: 5 } }),
    prop: 'retention',
    value: '{"keepDays":3,"keepLatest":5}',
    rule: 'must set exactly one of keepDays (date_rule) or keepLatest (tag_rule)',
  },
  {
    name: 'retention keepDays of zero',
    build: (s) => new SwrRepository(s, 'x', { organization: 'acme', name: 'app', retention: { keepDays: 0 } }),
    prop: 'retention.keepDays',
    value: '0',
    rule: 'must be a whole number of at least 1',
  },
  {
    name: 'mirrored image source with a digest',
    build: (s) => {
      mirror(s);
      return new MirroredImage(s, 'x', {
        source: `nginx@sha256:${'a'.repeat(64)}`,
        destination: 'swr.cn-north-4.myhuaweicloud.com/acme/nginx',
      });
    },
    prop: 'source',
    value: `"nginx@sha256:${'a'.repeat(64)}"`,
    rule: 'must not carry a digest: mirrors copy tags',
  },
  {
    name: 'mirrored image with an empty tag list',
    build: (s) => {
      mirror(s);
      return new MirroredImage(s, 'x', {
        source: 'nginx',
        tags: [],
        destination: 'swr.cn-north-4.myhuaweicloud.com/acme/nginx',
      });
    },
    prop: 'tags',
    value: '[]',
    rule: 'must list at least one tag (omit it for all tags)',
  },
  {
    name: 'mirrored image with a tag listed twice',
    build: (s) => {
      mirror(s);
      return new MirroredImage(s, 'x', {
        source: 'nginx',
        tags: ['1.27', '1.27'],
        destination: 'swr.cn-north-4.myhuaweicloud.com/acme/nginx',
      });
    },
    prop: 'tags[1]',
    value: '"1.27"',
    rule: 'must appear once',
  },
  {
    name: 'mirrored image onto its own source',
    build: (s) => {
      mirror(s);
      return new MirroredImage(s, 'x', { source: 'quay.io/acme/app', destination: 'quay.io/acme/app' });
    },
    prop: 'destination',
    value: '"quay.io/acme/app"',
    rule: 'must differ from source',
  },
  {
    name: 'mirrored image source that is no reference',
    build: (s) => {
      mirror(s);
      return new MirroredImage(s, 'x', {
        source: 'Quay.io/Acme/App',
        destination: 'swr.cn-north-4.myhuaweicloud.com/acme/app',
      });
    },
    prop: 'source',
    value: '"Quay.io/Acme/App"',
    rule: /must be an image reference .*lowercase/,
  },
  {
    name: 'pull secret name not a DNS subdomain',
    build: (s) =>
      new ImagePullSecret(s, 'x', {
        name: 'Pull_Secret',
        registries: [{ server: 'ghcr.io', username: 'bot', password: 'p' }],
      }),
    prop: 'name',
    value: '"Pull_Secret"',
    rule: 'Kubernetes DNS subdomain, RFC 1123',
  },
  {
    name: 'pull secret without any registry',
    build: (s) => new ImagePullSecret(s, 'x', { name: 'pull', registries: [] }),
    prop: 'registries',
    value: '[]',
    rule: 'must hold at least one registry (or set swr)',
  },
  {
    name: 'pull secret with an empty password (value never shown)',
    build: (s) =>
      new ImagePullSecret(s, 'x', { name: 'pull', registries: [{ server: 'ghcr.io', username: 'bot', password: '' }] }),
    prop: 'registries[0].password',
    value: '(secret, not shown)',
    rule: 'must be non-empty',
  },
  {
    name: 'SWR pull secret with a malformed AK (value never shown)',
    build: (s) =>
      ImagePullSecret.forSwr(s, 'x', {
        name: 'pull',
        region: 'cn-north-4',
        accessKey: 'AK-with-dash!',
        secretKey: 'CANARY-sk-not-shown',
      }),
    prop: 'swr.accessKey',
    value: '(secret, not shown)',
    rule: 'must be letters and digits only',
    secret: 'CANARY-sk-not-shown',
  },
  {
    name: 'workload with negative replicas',
    build: (s) => new Workload(s, 'x', { name: 'web', replicas: -1, containers: [{ name: 'web', image: 'nginx' }] }),
    prop: 'replicas',
    value: '-1',
    rule: 'must be a whole number of at least 0',
  },
  {
    name: 'workload without containers',
    build: (s) => new Workload(s, 'x', { name: 'web', containers: [] }),
    prop: 'containers',
    value: '[]',
    rule: 'must hold at least one container',
  },
  {
    name: 'workload container port out of range',
    build: (s) =>
      new Workload(s, 'x', {
        name: 'web',
        containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 70000 }] }],
      }),
    prop: 'containers[0].ports[0].containerPort',
    value: '70000',
    rule: 'must be a port number from 1 to 65535',
  },
  {
    name: 'workload kind unknown',
    build: (s) =>
      new Workload(s, 'x', { name: 'web', kind: 'daemonset' as never, containers: [{ name: 'web', image: 'nginx' }] }),
    prop: 'kind',
    value: '"daemonset"',
    rule: "must be 'deployment' or 'statefulset'",
  },
];

describe('constructs: bad props throw naming the prop, the value and the rule', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const stack = newStack();
      throwsRule(() => c.build(stack), { path: `MyStack/${c.id ?? 'x'}`, prop: c.prop, value: c.value, rule: c.rule });
      if (c.secret !== undefined) {
        assert.throws(
          () => c.build(newStack()),
          (err: Error) => !err.message.includes(c.secret!),
        );
      }
    });
  }
});
