/**
 * The library's own Kubernetes bindings (used under CDK Terrain, where no prebuilt provider package exists) against
 * the prebuilt @cdktf/provider-kubernetes classes: the same camelCase config must give the same JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerraformVariable } from 'cdktf';
import { DeploymentV1 as PrebuiltDeployment } from '@cdktf/provider-kubernetes/lib/deployment-v1/index.js';
import { KubernetesProvider as PrebuiltProvider } from '@cdktf/provider-kubernetes/lib/provider/index.js';
import { SecretV1 as PrebuiltSecret } from '@cdktf/provider-kubernetes/lib/secret-v1/index.js';
import { StatefulSetV1 as PrebuiltStatefulSet } from '@cdktf/provider-kubernetes/lib/stateful-set-v1/index.js';
import * as own from '../../constructs/lib/kubernetes.js';
import { newStack, synth } from './helpers.js';

const template = {
  metadata: {
    labels: { app: 'db', 'bursting.cci.io/burst-to-cci': 'auto', myLabel: 'kept' },
    annotations: { 'yangtse.io/pod-with-eip': 'true', someKey: 'kept' },
  },
  spec: {
    container: [
      {
        name: 'db',
        image: 'swr.cn-north-4.myhuaweicloud.com/acme/db@sha256:' + 'c'.repeat(64),
        imagePullPolicy: 'IfNotPresent',
        env: [{ name: 'TZ', value: 'UTC' }],
        port: [{ containerPort: 5432, name: 'pg', protocol: 'TCP' }],
        resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { 'nvidia.com/gpu': '1' } },
        volumeMount: [{ name: 'localtime', mountPath: '/etc/localtime', readOnly: true }],
      },
    ],
    imagePullSecrets: [{ name: 'swr-pull' }],
    volume: [{ name: 'localtime', hostPath: { path: '/etc/localtime' } }],
  },
};

function both(
  build: (
    classes: {
      Secret: typeof PrebuiltSecret;
      Deployment: typeof PrebuiltDeployment;
      StatefulSet: typeof PrebuiltStatefulSet;
      Provider: typeof PrebuiltProvider;
    },
    stack: ReturnType<typeof newStack>,
  ) => void,
) {
  const prebuilt = newStack('A', { providers: false });
  build(
    {
      Secret: PrebuiltSecret,
      Deployment: PrebuiltDeployment,
      StatefulSet: PrebuiltStatefulSet,
      Provider: PrebuiltProvider,
    },
    prebuilt,
  );
  const builtin = newStack('A', { providers: false });
  build(
    {
      Secret: own.SecretV1 as unknown as typeof PrebuiltSecret,
      Deployment: own.DeploymentV1 as unknown as typeof PrebuiltDeployment,
      StatefulSet: own.StatefulSetV1 as unknown as typeof PrebuiltStatefulSet,
      Provider: own.KubernetesProvider as unknown as typeof PrebuiltProvider,
    },
    builtin,
  );
  return { prebuilt: synth(prebuilt), builtin: synth(builtin) };
}

describe('own Kubernetes bindings', () => {
  it('write the same JSON as the prebuilt ones for the provider, secrets, deployments and stateful sets', () => {
    const { prebuilt, builtin } = both(({ Secret, Deployment, StatefulSet, Provider }, stack) => {
      new Provider(stack, 'k8s', { configPath: '~/.kube/config', configContext: 'prod' });
      // `env` is a map here (exec block), a list of blocks in containers.
      new Provider(stack, 'cce', {
        alias: 'cce',
        host: 'https://cce.example.com:5443',
        exec: [
          {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'cce-auth',
            args: ['token'],
            env: { HW_REGION_NAME: 'cn-north-4', someVar: 'kept' },
          },
        ],
      });
      const pw = new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true });
      const secret = new Secret(stack, 'pull', {
        metadata: { name: 'swr-pull', namespace: 'shop', labels: { teamName: 'web' } },
        type: 'kubernetes.io/dockerconfigjson',
        dataWo: { '.dockerconfigjson': pw.stringValue },
        dataWoRevision: 2,
      });
      new Deployment(stack, 'web', {
        metadata: { name: 'web', namespace: 'shop' },
        spec: { replicas: '2', selector: { matchLabels: { app: 'web', camelKey: 'x' } }, template },
        waitForRollout: false,
        dependsOn: [secret],
      });
      new StatefulSet(stack, 'db', {
        metadata: { name: 'db', namespace: 'shop', annotations: { noteKey: secret.metadata.name } },
        spec: { replicas: '1', selector: { matchLabels: { app: 'db' } }, serviceName: 'db', template },
        waitForRollout: true,
      });
    });
    assert.deepEqual(builtin, prebuilt);
    // Map contents are user data: keys kept as written.
    const sts = Object.values(builtin.resource.kubernetes_stateful_set_v1)[0] as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    assert.equal(sts.spec.template.metadata.labels.myLabel, 'kept');
  });
});
