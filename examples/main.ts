/**
 * Example cdktf app: an SWR organization and repository, pull secrets for SWR and a third-party registry, three
 * mirrored images and a CCE workload with a pod EIP, CCI bursting and image-replacement rules.
 *
 *   npm run synth      # → examples/cdktf.out/stacks/swr-example/{cdk.tf.json,swr-mirror.json}
 *
 * The same app on CDK Terrain: import from 'cdktn' instead of 'cdktf' below; nothing else changes (KubernetesProvider
 * comes from cdktf-swr, which picks the framework; docs/constructs.md, "CDK Terrain").
 *
 * Knobs for the loopback demo (all optional):
 *   EXAMPLE_SOURCE_REGISTRY  registry host[:port] to mirror from instead of docker.io / harbor.example.com
 *   EXAMPLE_DESTINATION      'registry/namespace' to mirror into instead of the SWR organization
 *   EXAMPLE_LOCK_FILE        lock file to pin from (default examples/swr-mirror.lock.json)
 *   CDKTF_OUTDIR             output directory (default examples/cdktf.out)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import {
  FRAMEWORK,
  HuaweicloudProvider,
  ImagePullSecret,
  KUBERNETES_BINDINGS,
  KubernetesProvider,
  MirroredImage,
  MirrorSet,
  SwrOrganization,
  SwrRepository,
  Workload,
  huaweicloud as hw,
} from 'cdktf-swr';

const here = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const REGION = 'cn-north-4';

export class SwrExampleStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: NodeJS.ProcessEnv = process.env) {
    super(scope, id);

    // Credentials come from HW_ACCESS_KEY / HW_SECRET_KEY and ~/.kube/config at plan time, not from this file.
    new HuaweicloudProvider(this, 'huaweicloud', { region: REGION });
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });

    const org = new SwrOrganization(this, 'Org', {
      name: 'acme-platform',
      region: REGION,
      permissions: [
        { userId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', userName: 'ci-robot', permission: 'Write' },
        { userId: '0f9e8d7c6b5a49382716f5e4d3c2b1a0', permission: 'Read' },
      ],
    });

    const webRepo = new SwrRepository(this, 'WebRepo', {
      organization: org,
      name: 'web',
      description: 'Front-end images',
      category: 'app_server',
      retention: {
        keepLatest: 20,
        exclude: [
          { kind: 'label', pattern: 'stable' },
          { kind: 'regexp', pattern: '^release-.*' },
        ],
      },
      // Checked at plan against data.huaweicloud_swr_sync_regions (checkSyncRegions, on by default).
      autoSync: [{ targetRegion: 'cn-east-3', targetOrganization: 'acme-platform-east' }],
    });

    // Promote a tested build to 'stable' inside SWR, copy a release to another region once, and read back what SWR
    // holds: the raw provider resources and data sources, under the `huaweicloud` namespace.
    new hw.SwrRepositoryTag(this, 'WebStable', {
      organization: org.resource.name,
      repository: webRepo.resource.name,
      sourceTag: '1.4.2',
      destinationTag: 'stable',
      override: true,
    });
    new hw.SwrImageManualSync(this, 'WebToSouth', {
      organization: org.resource.name,
      repository: webRepo.resource.name,
      imageTag: ['1.4.2'],
      targetRegion: 'cn-south-1',
      targetOrganization: 'acme-platform-south',
    });
    const webTags = new hw.DataSwrImageTags(this, 'WebTags', {
      organization: org.resource.name,
      repository: webRepo.resource.name,
      name: 'stable',
    });
    new TerraformOutput(this, 'web_stable_digest', {
      value: Fn.lookup(Fn.element(webTags.imageTags, 0), 'digest', ''),
    });
    const repos = new hw.DataSwrRepositories(this, 'OrgRepos', { organization: org.resource.name });
    new TerraformOutput(this, 'repositories', { value: repos.repositories });
    const orgs = new hw.DataSwrOrganizations(this, 'Orgs');
    new TerraformOutput(this, 'organizations', { value: orgs.organizations });

    // The SWR login key is HMAC-SHA256(SK, AK); Terraform cannot compute it, so it arrives precomputed:
    //   swr-sync login-key --ak-env HW_ACCESS_KEY --sk-env HW_SECRET_KEY   → TF_VAR_swr_login_key
    const accessKey = new TerraformVariable(this, 'swr_access_key', {
      type: 'string',
      description: 'AK for SWR pulls',
    });
    const loginKey = new TerraformVariable(this, 'swr_login_key', { type: 'string', sensitive: true });
    const swrPull = ImagePullSecret.forSwr(this, 'SwrPull', {
      name: 'swr-pull',
      namespace: 'shop',
      region: REGION,
      accessKey: accessKey.stringValue,
      loginKey: loginKey.stringValue,
    });

    // Or, with no key in the app at all: SWR's temporary login, fetched at apply time (it expires after hours, so it
    // suits CI clusters; re-create it with `terraform apply -replace`).
    ImagePullSecret.forSwr(this, 'SwrPullTemporary', {
      name: 'swr-pull-ci',
      namespace: 'ci',
      region: REGION,
      temporaryLogin: true,
      writeOnly: true,
    });

    const harborUser = new TerraformVariable(this, 'harbor_user', { type: 'string' });
    const harborPassword = new TerraformVariable(this, 'harbor_password', { type: 'string', sensitive: true });
    const harborPull = new ImagePullSecret(this, 'HarborPull', {
      name: 'harbor-pull',
      namespace: 'shop',
      registries: [
        { server: 'harbor.example.com', username: harborUser.stringValue, password: harborPassword.stringValue },
      ],
    });

    const lockFile = env.EXAMPLE_LOCK_FILE ?? here('swr-mirror.lock.json');
    new MirrorSet(this, 'Mirror', { lockFile, defaultDestination: env.EXAMPLE_DESTINATION ?? org });

    const hub = env.EXAMPLE_SOURCE_REGISTRY ?? 'docker.io';
    const harbor = env.EXAMPLE_SOURCE_REGISTRY ?? 'harbor.example.com';
    const nginx = new MirroredImage(this, 'nginx', {
      source: `${hub}/library/nginx`,
      tags: ['1.27'],
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    const redis = new MirroredImage(this, 'redis', { source: `${hub}/library/redis`, tags: ['7.4'] });
    new MirroredImage(this, 'api', { source: `${harbor}/platform/api`, tags: ['2.3'] });

    new Workload(this, 'Shop', {
      name: 'shop',
      namespace: 'shop',
      replicas: 2,
      containers: [
        { name: 'web', image: nginx, ports: [{ containerPort: 80 }] },
        // Pulled from Harbor on CCE; the derived image-replacement rule sends CCI pods to the SWR mirror.
        { name: 'api', image: `${harbor}/platform/api:2.3`, env: { LOG_LEVEL: 'info' } },
        { name: 'cache', image: redis, resources: { requests: { cpu: '250m', memory: '256Mi' } } },
      ],
      imagePullSecrets: [swrPull, harborPull],
      eip: { bandwidthSize: 5, bandwidthName: 'shop-bw', chargeMode: 'bandwidth', networkType: '5_bgp' },
      bursting: 'localPrefer',
      imageReplacement: {
        rules: [
          {
            repositoryPrefix: 'harbor.example.com/library',
            replaceWith: `swr.${REGION}.myhuaweicloud.com/acme-platform`,
          },
        ],
        fromMirroredImages: true,
      },
      // No timezoneSync here: it is a hostPath volume, which CCI (where this workload may burst) does not support.
    });
  }
}

/** Synthesizes the app and returns the output directory. */
export function synth(outdir = process.env.CDKTF_OUTDIR ?? here('cdktf.out')): string {
  const app = new App({ outdir });
  new SwrExampleStack(app, 'swr-example');
  app.synth();
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = synth();
  // Without the cdktf CLI nobody prints the annotations, so print them here.
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    stacks: Record<
      string,
      { annotations: { level: string; message: string; constructPath: string }[]; workingDirectory: string }
    >;
  };
  for (const [name, stack] of Object.entries(manifest.stacks)) {
    // As the cdktf CLI prints them: the construct path, then the message (which does not repeat it).
    for (const a of stack.annotations)
      console.error(`${a.level.replace(/^@cdkt[fn]\//, '')}: [${a.constructPath}] ${a.message}`);
    console.log(
      `synthesized ${name} → ${join(outdir, stack.workingDirectory)} (${FRAMEWORK}, ${KUBERNETES_BINDINGS} kubernetes bindings)`,
    );
  }
}
