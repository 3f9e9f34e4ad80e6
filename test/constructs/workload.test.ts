import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { TerraformVariable } from 'cdktf';
import { ImagePullSecret, MirroredImage, MirrorSet, SwrOrganization, Workload } from '../../constructs/index.js';
import type { WorkloadProps } from '../../constructs/index.js';
import { fullSynth, newStack, only, synth, throwsRule, warnings } from './helpers.js';

const NO_LOCK = join(tmpdir(), 'no-such-dir-swr', 'swr-mirror.lock.json');
const SWR = 'swr.cn-north-4.myhuaweicloud.com/acme';

function make(props: Partial<WorkloadProps> = {}, id = 'web') {
  const stack = newStack();
  const w = new Workload(stack, id, { name: 'web', containers: [{ name: 'web', image: 'nginx:1.27' }], ...props });
  return { stack, w };
}

function deployment(stack: ReturnType<typeof newStack>) {
  return only(synth(stack), 'kubernetes_deployment_v1');
}

describe('Workload', () => {
  it('emits a kubernetes_deployment_v1 with selector, replicas and containers', () => {
    const { stack } = make({
      namespace: 'shop',
      replicas: 3,
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          imagePullPolicy: 'IfNotPresent',
          command: ['nginx'],
          args: ['-g', 'daemon off;'],
          env: { MODE: 'prod' },
          ports: [{ containerPort: 80, name: 'http' }],
          resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1' } },
        },
      ],
      initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['true'] }],
    });
    const d = deployment(stack);
    assert.deepEqual(d.metadata, { name: 'web', namespace: 'shop', labels: { app: 'web' } });
    assert.equal(d.spec.replicas, '3');
    assert.deepEqual(d.spec.selector, { match_labels: { app: 'web' } });
    assert.deepEqual(d.spec.template.metadata, { labels: { app: 'web' }, annotations: {} });
    assert.deepEqual(d.spec.template.spec.container, [
      {
        name: 'web',
        image: 'nginx:1.27',
        image_pull_policy: 'IfNotPresent',
        command: ['nginx'],
        args: ['-g', 'daemon off;'],
        env: [{ name: 'MODE', value: 'prod' }],
        port: [{ container_port: 80, name: 'http' }],
        resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1' } },
      },
    ]);
    assert.deepEqual(d.spec.template.spec.init_container, [{ name: 'init', image: 'busybox:1.36', command: ['true'] }]);
    assert.equal(d.wait_for_rollout, false);
  });

  it('renders a dedicated-bandwidth EIP as yangtse.io pod annotations', () => {
    const { stack } = make({
      eip: { bandwidthSize: 10, bandwidthName: 'web-bw_1.a', chargeMode: 'traffic', networkType: '5_sbgp' },
    });
    assert.deepEqual(deployment(stack).spec.template.metadata.annotations, {
      'yangtse.io/pod-with-eip': 'true',
      'yangtse.io/eip-bandwidth-size': '10',
      'yangtse.io/eip-bandwidth-name': 'web-bw_1.a',
      'yangtse.io/eip-charge-mode': 'traffic',
      'yangtse.io/eip-network-type': '5_sbgp',
    });
  });

  it('renders a shared bandwidth with only the network type beside it', () => {
    const { stack } = make({ eip: { sharedBandwidthId: 'bw-123', networkType: '5_bgp' } });
    assert.deepEqual(deployment(stack).spec.template.metadata.annotations, {
      'yangtse.io/pod-with-eip': 'true',
      'yangtse.io/eip-bandwidth-id': 'bw-123',
      'yangtse.io/eip-network-type': '5_bgp',
    });
  });

  it('binds an existing EIP by id', () => {
    const { stack } = make({ eip: { eipId: 'eip-42' } });
    assert.deepEqual(deployment(stack).spec.template.metadata.annotations, { 'yangtse.io/eip-id': 'eip-42' });
  });

  it('accepts token EIP values known only at apply time', () => {
    const stack = newStack();
    const bw = new TerraformVariable(stack, 'bw', { type: 'string' });
    new Workload(stack, 'web', {
      name: 'web',
      containers: [{ name: 'web', image: 'nginx' }],
      eip: { sharedBandwidthId: bw.stringValue },
    });
    assert.equal(deployment(stack).spec.template.metadata.annotations['yangtse.io/eip-bandwidth-id'], '${var.bw}');
  });

  it('renders a static EIP on a StatefulSet', () => {
    const stack = newStack();
    new Workload(stack, 'db', {
      name: 'db',
      kind: 'statefulset',
      containers: [{ name: 'db', image: 'redis:7.4' }],
      eip: { static: { expireDuration: '1h30m', noCascading: true } },
    });
    const s = only(synth(stack), 'kubernetes_stateful_set_v1');
    assert.equal(s.spec.service_name, 'db');
    assert.deepEqual(s.spec.template.metadata.annotations, {
      'yangtse.io/pod-with-eip': 'true',
      'yangtse.io/static-eip': 'true',
      'yangtse.io/static-eip-expire-duration': '1h30m',
      'yangtse.io/static-eip-expire-no-cascading': 'true',
    });
  });

  const eipCases: [string, Partial<WorkloadProps>, string, string, string][] = [
    [
      'a bandwidth name with a space',
      { eip: { bandwidthName: 'a b' } },
      'eip.bandwidthName',
      '"a b"',
      "must be 1-64 letters, digits, '-', '_' or '.'",
    ],
    [
      'a bandwidth name over 64',
      { eip: { bandwidthName: 'b'.repeat(65) } },
      'eip.bandwidthName',
      JSON.stringify('b'.repeat(65)),
      "must be 1-64 letters, digits, '-', '_' or '.'",
    ],
    [
      'a bandwidth size of 0',
      { eip: { bandwidthSize: 0 } },
      'eip.bandwidthSize',
      '0',
      'must be a whole number of Mbit/s from 1 to 2000',
    ],
    [
      'a fractional bandwidth size',
      { eip: { bandwidthSize: 2.5 } },
      'eip.bandwidthSize',
      '2.5',
      'must be a whole number of Mbit/s',
    ],
    [
      'an unknown charge mode',
      { eip: { chargeMode: 'hourly' as never } },
      'eip.chargeMode',
      '"hourly"',
      "must be 'bandwidth' or 'traffic'",
    ],
    ['a bad network type', { eip: { networkType: 'bgp' } }, 'eip.networkType', '"bgp"', 'must be an EIP line type'],
    // Huawei's EIP ranges by billing mode: 1-2000 by bandwidth, 1-300 by traffic.
    [
      'a traffic-billed size over 300',
      { eip: { bandwidthSize: 301, chargeMode: 'traffic' } },
      'eip.bandwidthSize',
      '301',
      'from 1 to 300 (billed by traffic)',
    ],
    [
      'a bandwidth-billed size over 2000',
      { eip: { bandwidthSize: 2001, chargeMode: 'bandwidth' } },
      'eip.bandwidthSize',
      '2001',
      'from 1 to 2000 (billed by bandwidth)',
    ],
    // One existing EIP binds to one pod.
    [
      'an existing EIP on 3 replicas',
      { replicas: 3, eip: { eipId: 'eip-1' } },
      'eip.eipId',
      '"eip-1"',
      'binds one EIP to one pod, but replicas is 3',
    ],
    [
      'a size with a shared bandwidth',
      { eip: { sharedBandwidthId: 'bw', bandwidthSize: 5 } },
      'eip.bandwidthSize',
      '5',
      'must not be set with eip.sharedBandwidthId',
    ],
    [
      'a name with a shared bandwidth',
      { eip: { sharedBandwidthId: 'bw', bandwidthName: 'x' } },
      'eip.bandwidthName',
      '"x"',
      'must not be set with eip.sharedBandwidthId',
    ],
    [
      'a charge mode with a shared bandwidth',
      { eip: { sharedBandwidthId: 'bw', chargeMode: 'traffic' } },
      'eip.chargeMode',
      '"traffic"',
      'must not be set with eip.sharedBandwidthId',
    ],
    [
      'podWithEip with an existing EIP',
      { eip: { eipId: 'e', podWithEip: true } },
      'eip.podWithEip',
      'true',
      'must not be true with eip.eipId',
    ],
    [
      'bandwidth with an existing EIP',
      { eip: { eipId: 'e', bandwidthSize: 5 } },
      'eip.bandwidthSize',
      '5',
      'must not be set with eip.eipId',
    ],
    [
      'settings with podWithEip false',
      { eip: { podWithEip: false, bandwidthSize: 5 } },
      'eip.bandwidthSize',
      '5',
      'must not be set when eip.podWithEip is false',
    ],
    ['a static EIP on a Deployment', { eip: { static: true } }, 'eip.static', 'true', "needs kind 'statefulset'"],
    [
      'a bad static expiry',
      { kind: 'statefulset', eip: { static: { expireDuration: '5 minutes' } } },
      'eip.static.expireDuration',
      '"5 minutes"',
      'must be a Go duration',
    ],
  ];
  for (const [why, props, prop, value, rule] of eipCases) {
    it(`rejects ${why}`, () => {
      const stack = newStack();
      throwsRule(
        () => new Workload(stack, 'web', { name: 'web', containers: [{ name: 'web', image: 'nginx' }], ...props }),
        {
          path: 'MyStack/web',
          prop,
          value,
          rule,
        },
      );
    });
  }

  it('labels the workload and its pods for bursting (CCI 1.0 and 2.0 keys)', () => {
    const one = make({ bursting: 'localPrefer' });
    const d = deployment(one.stack);
    assert.equal(d.metadata.labels['virtual-kubelet.io/burst-to-cci'], 'localPrefer');
    assert.equal(d.spec.template.metadata.labels['virtual-kubelet.io/burst-to-cci'], 'localPrefer');
    assert.deepEqual(d.spec.selector.match_labels, { app: 'web' }, 'the selector stays stable when the mode changes');
    const two = make({ bursting: 'enforce', cciVersion: 2 });
    const d2 = deployment(two.stack);
    assert.equal(d2.metadata.labels['bursting.cci.io/burst-to-cci'], 'enforce');
    assert.equal(d2.metadata.labels['virtual-kubelet.io/burst-to-cci'], undefined);
  });

  it('rejects an unknown bursting mode and CCI version', () => {
    throwsRule(() => make({ bursting: 'always' as never }), {
      path: 'MyStack/web',
      prop: 'bursting',
      value: '"always"',
      rule: "must be 'auto', 'localPrefer', 'enforce' or 'off'",
    });
    throwsRule(() => make({ cciVersion: 3 as never }), {
      path: 'MyStack/web',
      prop: 'cciVersion',
      value: '3',
      rule: 'must be 1 or 2',
    });
  });

  it('accepts an existing EIP on one replica and traffic billing up to 300 Mbit/s; warns above 300 without a charge mode', () => {
    assert.equal(
      deployment(make({ replicas: 1, eip: { eipId: 'eip-1' } }).stack).spec.template.metadata.annotations[
        'yangtse.io/eip-id'
      ],
      'eip-1',
    );
    assert.equal(
      deployment(make({ eip: { bandwidthSize: 300, chargeMode: 'traffic' } }).stack).spec.template.metadata.annotations[
        'yangtse.io/eip-bandwidth-size'
      ],
      '300',
    );
    const { stack } = make({ eip: { bandwidthSize: 1000 } });
    assert.match(warnings(stack).join('\n'), /eip\.bandwidthSize 1000 exceeds 300 Mbit\/s, the traffic-billed maximum/);
    assert.deepEqual(warnings(make({ eip: { bandwidthSize: 1000, chargeMode: 'bandwidth' } }).stack), []);
  });

  it('warns that timezoneSync (a hostPath volume) does not work on CCI when the workload bursts', () => {
    assert.match(
      warnings(make({ timezoneSync: true, bursting: 'localPrefer' }).stack).join('\n'),
      /^timezoneSync mounts the node's \/etc\/localtime as a hostPath volume, which CCI does not support/,
    );
    assert.deepEqual(warnings(make({ timezoneSync: true, bursting: 'off' }).stack), []);
    assert.deepEqual(warnings(make({ timezoneSync: true }).stack), []);
  });

  it('renders image-replacement rules as the JSON annotation (CCI 1.0 only)', () => {
    const rules = [
      { repositoryPrefix: 'harbor.domain', replaceWith: `${SWR}1` },
      { repositoryPrefix: '', replaceWith: `${SWR}1` },
      { repositoryPrefix: 'harbor.domain/a/b/c/d', replaceWith: `${SWR}2` },
    ];
    const one = make({ imageReplacement: { rules } });
    const value = deployment(one.stack).spec.template.metadata.annotations['coordinator.cci.io/image-replacement'];
    assert.deepEqual(JSON.parse(value), rules);
    assert.equal(value, JSON.stringify(rules));
    // No Huawei page documents an image-replacement annotation for CCI 2.0: refused rather than guessed.
    throwsRule(() => make({ cciVersion: 2, imageReplacement: { rules: [rules[0]!] } }), {
      path: 'MyStack/web',
      prop: 'imageReplacement',
      rule: 'is not available with cciVersion 2',
    });
    throwsRule(() => make({ cciVersion: 2, imageReplacement: { fromMirroredImages: true } }), {
      path: 'MyStack/web',
      prop: 'imageReplacement',
      rule: 'cciVersion 2',
    });
    const two = make({ cciVersion: 2, bursting: 'auto' });
    const pod = deployment(two.stack).spec.template.metadata;
    assert.equal(pod.labels['bursting.cci.io/burst-to-cci'], 'auto');
    assert.equal(JSON.stringify(pod).includes('image-replacement'), false);
  });

  it('accepts host:port prefixes, as CCI takes everything before the last /', () => {
    const rules = [
      { repositoryPrefix: 'localhost:5000', replaceWith: `${SWR}` },
      { repositoryPrefix: '10.0.0.7:8443/team', replaceWith: '127.0.0.1:5001' },
    ];
    const value = deployment(make({ imageReplacement: { rules } }).stack).spec.template.metadata.annotations[
      'coordinator.cci.io/image-replacement'
    ];
    assert.deepEqual(JSON.parse(value), rules);
  });

  it('derives a host:port prefix for an image mirrored from localhost:5000', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    new MirroredImage(stack, 'app', { source: 'localhost:5000/app', tags: ['1'], destination: `${SWR}/app` });
    new Workload(stack, 'web', {
      name: 'web',
      containers: [{ name: 'app', image: 'localhost:5000/app:1' }],
      imageReplacement: { fromMirroredImages: true },
    });
    const value = deployment(stack).spec.template.metadata.annotations['coordinator.cci.io/image-replacement'];
    assert.deepEqual(JSON.parse(value), [{ repositoryPrefix: 'localhost:5000', replaceWith: SWR }]);
  });

  it('derives no rule for a digest-pinned image when the mirror filters platforms (the index digest changes)', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    new MirroredImage(stack, 'app', {
      source: 'harbor.example.com/team/app',
      tags: ['1'],
      destination: `${SWR}/app`,
      platforms: ['linux/amd64'],
    });
    new MirroredImage(stack, 'db', { source: 'harbor.example.com/data/db', tags: ['2'], destination: `${SWR}/db` });
    new Workload(stack, 'web', {
      name: 'web',
      containers: [
        { name: 'app', image: `harbor.example.com/team/app@${digest}` },
        // Without a platform filter manifests are copied byte for byte: the digest holds, the rule is derived.
        { name: 'db', image: `harbor.example.com/data/db@${digest}` },
      ],
      imageReplacement: { fromMirroredImages: true },
    });
    const value = deployment(stack).spec.template.metadata.annotations['coordinator.cci.io/image-replacement'];
    assert.deepEqual(JSON.parse(value), [{ repositoryPrefix: 'harbor.example.com/data', replaceWith: SWR }]);
    assert.match(
      warnings(stack).join('\n'),
      /no rule derived for prefix "harbor\.example\.com\/team": .* is pinned by digest and MyStack\/app copies only linux\/amd64, so the mirrored index has another digest/,
    );
  });

  const ruleCases: [string, object, string, string, string][] = [
    [
      'a prefix ending in /',
      { repositoryPrefix: 'harbor.domain/', replaceWith: SWR },
      'imageReplacement.rules[0].repositoryPrefix',
      '"harbor.domain/"',
      "must not end with '/'",
    ],
    [
      'a replaceWith ending in /',
      { repositoryPrefix: 'harbor.domain', replaceWith: `${SWR}/` },
      'imageReplacement.rules[0].replaceWith',
      JSON.stringify(`${SWR}/`),
      "must not end with '/'",
    ],
    [
      'a replaceWith equal to the prefix',
      { repositoryPrefix: 'harbor.domain/a', replaceWith: 'harbor.domain/a' },
      'imageReplacement.rules[0].replaceWith',
      '"harbor.domain/a"',
      'must differ from repositoryPrefix',
    ],
    [
      'a prefix that is not an image name',
      { repositoryPrefix: 'harbor.domain/A B', replaceWith: SWR },
      'imageReplacement.rules[0].repositoryPrefix',
      '"harbor.domain/A B"',
      'must be an image-name prefix',
    ],
    [
      'an empty replaceWith',
      { repositoryPrefix: 'x', replaceWith: '' },
      'imageReplacement.rules[0].replaceWith',
      '""',
      'must be non-empty',
    ],
  ];
  for (const [why, rule, prop, value, text] of ruleCases) {
    it(`rejects an image-replacement rule with ${why}`, () => {
      throwsRule(() => make({ imageReplacement: { rules: [rule as never] } }), {
        path: 'MyStack/web',
        prop,
        value,
        rule: text,
      });
    });
  }

  it('rejects two image-replacement rules with the same prefix', () => {
    throwsRule(
      () =>
        make({
          imageReplacement: {
            rules: [
              { repositoryPrefix: 'h.io/a', replaceWith: `${SWR}1` },
              { repositoryPrefix: 'h.io/a', replaceWith: `${SWR}2` },
            ],
          },
        }),
      {
        path: 'MyStack/web',
        prop: 'imageReplacement.rules[1].repositoryPrefix',
        value: '"h.io/a"',
        rule: 'must be unique among the rules',
      },
    );
  });

  it("derives image-replacement rules from the stack's mirrored images, declared before or after", () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    const org = new SwrOrganization(stack, 'org', { name: 'acme', region: 'cn-north-4' });
    new MirroredImage(stack, 'api', { source: 'harbor.example.com/platform/api', tags: ['2.3'], destination: org });
    const w = new Workload(stack, 'web', {
      name: 'web',
      containers: [
        { name: 'api', image: 'harbor.example.com/platform/api:2.3' },
        { name: 'web', image: 'nginx:1.27' },
        { name: 'own', image: 'registry.internal/tools/own:1' },
      ],
      initContainers: [{ name: 'worker', image: 'harbor.example.com/platform/worker:2.3' }],
      imageReplacement: {
        rules: [{ repositoryPrefix: 'registry.internal/tools', replaceWith: `${SWR}-tools` }],
        fromMirroredImages: true,
      },
    });
    // Declared after the workload: still found, because the rules resolve at synth.
    new MirroredImage(stack, 'nginx', { source: 'nginx', tags: ['1.27'], destination: org });
    new MirroredImage(stack, 'worker', {
      source: 'harbor.example.com/platform/worker',
      tags: ['2.3'],
      destination: org,
    });
    const value = deployment(stack).spec.template.metadata.annotations['coordinator.cci.io/image-replacement'];
    assert.deepEqual(JSON.parse(value), [
      { repositoryPrefix: 'registry.internal/tools', replaceWith: `${SWR}-tools` },
      { repositoryPrefix: 'harbor.example.com/platform', replaceWith: SWR },
      { repositoryPrefix: '', replaceWith: SWR },
    ]);
    assert.deepEqual(w.imageReplacementRules.length, 3);
    assert.deepEqual(warnings(stack), []);
  });

  it('derives no rule where one would rewrite an image that is not mirrored, and says why at synth', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    new MirroredImage(stack, 'nginx', { source: 'nginx', tags: ['1.27'], destination: `${SWR}/nginx` });
    new MirroredImage(stack, 'app', { source: 'ghcr.io/acme/app', tags: ['1'], destination: `${SWR}/acme-app` });
    new Workload(stack, 'web', {
      name: 'web',
      containers: [
        { name: 'web', image: 'nginx:1.26' },
        { name: 'busybox', image: 'busybox:1.36' },
        { name: 'app', image: 'ghcr.io/acme/app:1' },
      ],
      imageReplacement: { fromMirroredImages: true },
    });
    const { config, manifest } = fullSynth(stack);
    const annotations = Object.values(config.resource.kubernetes_deployment_v1)[0] as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    assert.equal(annotations.spec.template.metadata.annotations['coordinator.cci.io/image-replacement'], undefined);
    const messages = manifest.annotations.map((a: { message: string }) => a.message).join('\n');
    assert.match(
      messages,
      /^imageReplacement\.fromMirroredImages: "nginx:1\.26": tag "1\.26" is not among the mirrored tags of MyStack\/nginx \(1\.27\)/,
    );
    assert.match(messages, /no rule derived for prefix "": "busybox:1\.36" is not mirrored/);
    assert.match(
      messages,
      /no rule derived for prefix "ghcr\.io\/acme": "ghcr\.io\/acme\/app:1" is mirrored as "swr\.cn-north-4\.myhuaweicloud\.com\/acme\/acme-app", and a rule cannot rename "app"/,
    );
  });

  it('pulls MirroredImage containers from the mirror, pinned by default', () => {
    const stack = newStack();
    new MirrorSet(stack, 'Mirror', { lockFile: NO_LOCK });
    const nginx = new MirroredImage(stack, 'nginx', {
      source: 'nginx',
      tags: ['1.27', '1.26'],
      destination: `${SWR}/nginx`,
    });
    new Workload(stack, 'web', {
      name: 'web',
      containers: [
        { name: 'a', image: nginx },
        { name: 'b', image: nginx, tag: '1.26', pinned: false },
      ],
    });
    const images = deployment(stack).spec.template.spec.container.map((c: { image: string }) => c.image);
    assert.deepEqual(images, [`${SWR}/nginx:1.27`, `${SWR}/nginx:1.26`]);
    assert.equal(warnings(stack).length, 1, 'the unpinned first container warns');
  });

  it("mounts the node's /etc/localtime read-only for time-zone synchronization", () => {
    const { stack } = make({ timezoneSync: true, initContainers: [{ name: 'init', image: 'busybox' }] });
    const spec = deployment(stack).spec.template.spec;
    assert.deepEqual(spec.volume, [{ name: 'localtime', host_path: { path: '/etc/localtime' } }]);
    for (const c of [...spec.container, ...spec.init_container]) {
      assert.deepEqual(c.volume_mount, [{ name: 'localtime', mount_path: '/etc/localtime', read_only: true }]);
    }
  });

  it('references pull secrets by their resource so Terraform creates them first', () => {
    const stack = newStack();
    const secret = new ImagePullSecret(stack, 'pull', {
      name: 'harbor',
      namespace: 'shop',
      registries: [{ server: 'h.example', username: 'u', password: 'p' }],
    });
    new Workload(stack, 'web', {
      name: 'web',
      namespace: 'shop',
      containers: [{ name: 'web', image: 'nginx' }],
      imagePullSecrets: [secret, 'default-secret'],
    });
    const pulls = deployment(stack).spec.template.spec.image_pull_secrets;
    assert.match(pulls[0].name, /^\$\{kubernetes_secret_v1\.pull(_[0-9A-F]+)?\.metadata\[0\]\.name\}$/);
    assert.equal(pulls[1].name, 'default-secret');
  });

  it('rejects a pull secret from another namespace', () => {
    const stack = newStack();
    const secret = new ImagePullSecret(stack, 'pull', {
      name: 'harbor',
      registries: [{ server: 'h.example', username: 'u', password: 'p' }],
    });
    throwsRule(
      () =>
        new Workload(stack, 'web', {
          name: 'web',
          namespace: 'shop',
          containers: [{ name: 'web', image: 'nginx' }],
          imagePullSecrets: [secret],
        }),
      {
        path: 'MyStack/web',
        prop: 'imagePullSecrets[0]',
        value: '"MyStack/pull"',
        rule: `must be in the workload's namespace "shop" (it is in "default")`,
      },
    );
  });

  const shapeCases: [string, Partial<WorkloadProps>, string, string, string][] = [
    ['a workload name with uppercase', { name: 'Web' }, 'name', '"Web"', 'Kubernetes DNS subdomain'],
    ['a StatefulSet name with a dot', { name: 'db.a', kind: 'statefulset' }, 'name', '"db.a"', 'Kubernetes DNS label'],
    ['a bad namespace', { namespace: 'Shop' }, 'namespace', '"Shop"', 'Kubernetes DNS label'],
    ['an unknown kind', { kind: 'daemonset' as never }, 'kind', '"daemonset"', "must be 'deployment' or 'statefulset'"],
    ['negative replicas', { replicas: -1 }, 'replicas', '-1', 'must be a whole number of at least 0'],
    ['no containers', { containers: [] }, 'containers', '[]', 'must hold at least one container'],
    [
      'a container name with underscore',
      { containers: [{ name: 'my_app', image: 'nginx' }] },
      'containers[0].name',
      '"my_app"',
      'Kubernetes DNS label',
    ],
    [
      'two containers with one name',
      { containers: [{ name: 'a', image: 'nginx' }], initContainers: [{ name: 'a', image: 'busybox' }] },
      'initContainers[0].name',
      '"a"',
      'must be unique among the containers',
    ],
    [
      'a bad image',
      { containers: [{ name: 'a', image: 'NGINX:latest' }] },
      'containers[0].image',
      '"NGINX:latest"',
      'must be an image reference',
    ],
    [
      'a tag on a plain image',
      { containers: [{ name: 'a', image: 'nginx', tag: '1' }] },
      'containers[0].tag',
      '"1"',
      'apply only to a MirroredImage',
    ],
    [
      'a bad port',
      { containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 70000 }] }] },
      'containers[0].ports[0].containerPort',
      '70000',
      'must be a port number',
    ],
    [
      'a service name on a Deployment',
      { serviceName: 'svc' },
      'serviceName',
      '"svc"',
      "is only for kind 'statefulset'",
    ],
    [
      'a bad pull secret name',
      { imagePullSecrets: ['Bad_Name'] },
      'imagePullSecrets[0]',
      '"Bad_Name"',
      'Kubernetes DNS subdomain',
    ],
  ];
  for (const [why, props, prop, value, rule] of shapeCases) {
    it(`rejects ${why}`, () => {
      throwsRule(() => make(props), { path: 'MyStack/web', prop, value, rule });
    });
  }

  it('is a trigger target with the SWR API workload kind', () => {
    const a = make().w;
    assert.equal(a.workloadKind, 'deployments');
    const stack = newStack();
    const b = new Workload(stack, 'db', {
      name: 'db',
      kind: 'statefulset',
      containers: [{ name: 'db', image: 'redis' }],
    });
    assert.equal(b.workloadKind, 'statefulsets');
  });
});
