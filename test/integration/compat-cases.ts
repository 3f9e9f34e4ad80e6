import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ImageResult } from '../../src/engine/image-result.js';
import { fetchManifest, type BuiltIndex, type BuiltManifest, type RunningRegistry } from '../harness/index.js';
import type { CliRun } from './support.js';

/**
 * Compatibility with image-syncer and image-migrator (issue 16, docs/migrating.md): their documented rules, their
 * own example files, the cases of their unit tests and the command lines of their documentation, each run with
 * swr-sync against real loopback registries. Every case states what the original tool does (`original`) and asserts
 * the tags and digests it would leave at the destination, or names a deliberate difference (`difference`).
 *
 * Sources read: image-syncer README (rules 1-8 of the images file, flags), examples/images.json, images.yaml,
 * auth.yaml, config.yaml, pkg/utils/url_test.go, pkg/client/config.go, pkg/sync/manifest.go (platformValidate),
 * v1.3.1 pkg/tools/url.go and pkg/client/client.go (--registry/--namespace, "tasks generate failed"); Huawei Cloud's
 * image-migrator page (rules 1-8, flags -w/-r, the finishing line).
 *
 * One source registry (plain HTTP, anonymous) is seeded once; one destination (htpasswd) serves every case, each
 * case writing under its own namespace, so cases run three at a time.
 */

export const DST_USER = 'mirror-bot';
// Numeric and octal-looking on purpose: go-yaml v2 reads `password: 0755` into a string field as "0755".
export const DST_PASSWORD = '0755';

export interface SyncJson {
  summary: {
    images: number;
    copied: number;
    unchanged: number;
    skipped: number;
    failed: number;
    generateFailed: number;
  };
  images: ImageResult[];
  generateFailures: Array<{
    source: string;
    rule: { file: string; key: string };
    error: { code: string; message: string };
  }>;
  warnings: string[];
}

/** What a case sees: hosts, its own namespace and directory, and the seeded digests by source `repo:tag`. */
export interface Ctx {
  /** The destination registry (for checks that read it). */
  dst: RunningRegistry;
  S: string;
  D: string;
  ns: string;
  dir: string;
  digest(ref: string): string;
  index(ref: string): BuiltIndex;
}

export interface Expect {
  /** Exit status. @default 0 */
  exit?: number;
  /** Destination repositories (under the case namespace) with exactly these tags, each with the digest of a source ref. */
  repos?: Record<string, Record<string, string>>;
  /** Destination repositories (under the case namespace) that must not exist (no tag at all). */
  absent?: string[];
  /** Manifests stored by digest only: `repo@` + the digest of a source ref. */
  byDigest?: Record<string, string>;
  generateFailed?: number;
  skipped?: number;
  /** On stderr + stdout. */
  output?: RegExp;
  /** Any further check. */
  check?: (ctx: Ctx, run: CliRun, json: SyncJson | undefined) => Promise<void> | void;
}

export interface Case {
  /** image-syncer (`S-…`), image-migrator (`M-…`), both (`B-…`). */
  id: string;
  tool: 'image-syncer' | 'image-migrator' | 'both';
  /** Where the case comes from in the original's docs, examples or tests. */
  from: string;
  name: string;
  /** The images file: an object (written as JSON) or text (YAML). */
  images?: (c: Ctx) => Record<string, unknown> | string;
  imagesName?: string;
  /** The auth file; by default JSON with the source insecure and the destination's credentials. */
  auth?: (c: Ctx) => Record<string, unknown> | string;
  authName?: string;
  /** Flags; `--images`/`--auth`/`--json`/`--log` are added unless `raw` is set. */
  args?: (c: Ctx) => string[];
  raw?: boolean;
  env?: (c: Ctx) => Record<string, string>;
  /** Run twice; the expectations apply to the second run. */
  twice?: boolean;
  /** What the original tool does. */
  original: string;
  /** Where swr-sync differs on purpose (docs/migrating.md). */
  difference?: string;
  expect: Expect;
}

export const RBAC_TAGS = ['v1.0', 'v2.0', 'v1.1', 'latest', 'alpha'];
export const REGEX_TAGS = ['aaa', 'bbb', 'bbb-old', 'v1', 'v12', 'v1.0', 'V2'];

/** Every tag of the seeded kube-rbac-proxy. */
function rbacAll(): Record<string, string> {
  return Object.fromEntries(RBAC_TAGS.map((t) => [t, `coreos/kube-rbac-proxy:${t}`]));
}

const one = (ref: string) => ({ [ref.slice(ref.lastIndexOf(':') + 1)]: ref });

export const CASES: Case[] = [
  // ------------------------------------------------------------------------------------------------------------
  // image-migrator's eight rules (Huawei Cloud docs) and command lines
  {
    id: 'M-1',
    tool: 'image-migrator',
    from: 'rule 1',
    name: 'a key that names no repository (ends with "/") is skipped, the rest copied',
    images: (c) => ({ [`${c.S}/coreos/`]: `${c.D}/${c.ns}/x`, [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: 'rule fails to generate, the others are copied, "1 tasks generate failed"',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:1.0.0') }, absent: ['x'] },
  },
  {
    id: 'M-2',
    tool: 'image-migrator',
    from: 'rule 2',
    name: 'registry/namespace/repository:tag to the same form',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd:1.0.0` }),
    original: 'copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-3',
    tool: 'image-migrator',
    from: 'rule 3',
    name: 'a destination without registry is skipped',
    images: (c) => ({
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.ns}/etcd`,
      [`${c.S}/coreos/etcd:2.7.3`]: `${c.D}/${c.ns}/etcd`,
    }),
    original: 'the rule fails to generate; etcd:2.7.3 is copied',
    difference:
      'image-syncer would read `ns/etcd` as a Docker Hub repository and push there; image-migrator rule 3 requires a registry, as swr-sync does',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:2.7.3') } },
  },
  {
    id: 'M-4',
    tool: 'image-migrator',
    from: 'rule 4',
    name: 'an empty source key is skipped',
    images: (c) => ({ '': `${c.D}/${c.ns}/x`, [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: '"source url should not be empty": generate failure; the rest copied',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-5',
    tool: 'image-migrator',
    from: 'rule 5',
    name: 'the destination repository may be renamed',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/my-etcd` }),
    original: 'copies to my-etcd:1.0.0',
    expect: { repos: { 'my-etcd': one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-6',
    tool: 'image-migrator',
    from: 'rule 6',
    name: 'a source without tag copies every tag',
    images: (c) => ({ [`${c.S}/coreos/etcd`]: `${c.D}/${c.ns}/etcd` }),
    original: 'copies 1.0.0, 2.7.3, 3.0.0',
    expect: {
      repos: { etcd: { '1.0.0': 'coreos/etcd:1.0.0', '2.7.3': 'coreos/etcd:2.7.3', '3.0.0': 'coreos/etcd:3.0.0' } },
    },
  },
  {
    id: 'M-6b',
    tool: 'image-migrator',
    from: 'rule 6',
    name: 'all tags to a destination with a tag: that rule is skipped',
    images: (c) => ({
      [`${c.S}/coreos/etcd`]: `${c.D}/${c.ns}/etcd:x`,
      [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/three`,
    }),
    original: '"tag should be included both side of the config": generate failure; the rest copied',
    expect: { exit: 1, generateFailed: 1, repos: { three: one('coreos/etcd:3.0.0') }, absent: ['etcd'] },
  },
  {
    id: 'M-7',
    tool: 'image-migrator',
    from: 'rule 7',
    name: 'a source tag without destination tag keeps the tag',
    images: (c) => ({ [`${c.S}/coreos/etcd:2.7.3`]: `${c.D}/${c.ns}/etcd` }),
    original: 'copies etcd:2.7.3',
    expect: { repos: { etcd: one('coreos/etcd:2.7.3') } },
  },
  {
    id: 'M-7b',
    tool: 'image-migrator',
    from: 'rule 7',
    name: 'a source tag to another destination tag',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd:stable` }),
    original: 'copies 1.0.0 as etcd:stable',
    expect: { repos: { etcd: { stable: 'coreos/etcd:1.0.0' } } },
  },
  {
    id: 'M-8',
    tool: 'image-migrator',
    from: 'rule 8',
    name: 'an empty destination: --registry/--namespace + repository and tag',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: '' }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'copies to <registry>/<namespace>/etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-8b',
    tool: 'both',
    from: 'rule 8; image-syncer v1.x url_test.go (knative)',
    name: 'rule 8 keeps a deep path after the namespace',
    images: (c) => ({ [`${c.S}/knative-releases/github.com/knative/build/cmd/creds-init:v1`]: '' }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'writes <registry>/<namespace>/github.com/knative/build/cmd/creds-init:v1',
    expect: {
      repos: {
        'github.com/knative/build/cmd/creds-init': one('knative-releases/github.com/knative/build/cmd/creds-init:v1'),
      },
    },
  },
  {
    id: 'M-8c',
    tool: 'image-migrator',
    from: 'rule 8 (DEFAULT_REGISTRY / DEFAULT_NAMESPACE)',
    name: 'rule 8 defaults from the environment',
    images: (c) => ({ [`${c.S}/coreos/etcd:2.7.3`]: '' }),
    env: (c) => ({ DEFAULT_REGISTRY: c.D, DEFAULT_NAMESPACE: c.ns }),
    original: 'copies to $DEFAULT_REGISTRY/$DEFAULT_NAMESPACE/etcd:2.7.3',
    expect: { repos: { etcd: one('coreos/etcd:2.7.3') } },
  },
  {
    id: 'M-8d',
    tool: 'image-migrator',
    from: 'rule 8',
    name: 'rule 8 without defaults: that rule fails to generate, the rest is copied',
    images: (c) => ({ [`${c.S}/coreos/etcd:2.7.3`]: '', [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: '"the default registry and namespace should not be nil": generate failure',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-8e',
    tool: 'image-migrator',
    from: 'rule 8 + rule 6',
    name: 'rule 8 for every tag of a repository',
    images: (c) => ({ [`${c.S}/coreos/etcd`]: null }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'copies every tag to <registry>/<namespace>/etcd',
    expect: {
      repos: { etcd: { '1.0.0': 'coreos/etcd:1.0.0', '2.7.3': 'coreos/etcd:2.7.3', '3.0.0': 'coreos/etcd:3.0.0' } },
    },
  },
  {
    id: 'M-8f',
    tool: 'both',
    from: 'rule 8; image-syncer v1.3.1 client.go (multi-tags with the default destination)',
    name: 'rule 8 with a tag list',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0,3.0.0`]: '' }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'copies 1.0.0 and 3.0.0 to <registry>/<namespace>/etcd',
    expect: { repos: { etcd: { '1.0.0': 'coreos/etcd:1.0.0', '3.0.0': 'coreos/etcd:3.0.0' } } },
  },
  {
    id: 'M-8g',
    tool: 'both',
    from: 'rule 8 with a digest source (image-syncer README rule 4)',
    name: 'rule 8 with a digest: stored by digest under the default namespace',
    images: (c) => ({ [`${c.S}/coreos/etcd@${c.digest('coreos/etcd:2.7.3')}`]: '' }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'pushes the manifest by digest to <registry>/<namespace>/etcd',
    expect: { absent: ['etcd'], byDigest: { etcd: 'coreos/etcd:2.7.3' } },
  },
  {
    id: 'M-8h',
    tool: 'both',
    from: 'rule 8; v1.3.1 url.go (registry/repository without namespace)',
    name: 'rule 8 for a repository without namespace',
    images: (c) => ({ [`${c.S}/solo:1`]: null }),
    args: (c) => ['--registry', c.D, '--namespace', c.ns],
    original: 'copies to <registry>/<namespace>/solo:1',
    expect: { repos: { solo: one('solo:1') } },
  },
  {
    id: 'S-config-json',
    tool: 'image-syncer',
    from: 'examples/config.json (--config)',
    name: 'the legacy combined file, JSON, with $VAR in the password',
    raw: true,
    args: (c) => ['--config', join(c.dir, 'config.json'), '--json', '--log', join(c.dir, 'run.log')],
    original: 'reads auth (expanding $VAR) and images from one file: copies etcd:3.0.0',
    expect: { repos: { etcd: one('coreos/etcd:3.0.0') } },
  },
  {
    id: 'S-env-key',
    tool: 'image-syncer',
    from: 'image-syncer README (auth "$env") and os.ExpandEnv',
    name: '$VAR in a source key and ${VAR} in the auth username',
    images: (c) => ({ '${SRC}/coreos/etcd:1.0.0': `${c.D}/${c.ns}/etcd` }),
    auth: (c) => ({
      [c.S]: { insecure: true },
      [c.D]: { username: '${DST_USER}', password: '$DST_PASSWORD', insecure: true },
    }),
    env: (c) => ({ SRC: c.S, DST_USER }),
    original: 'expands both: copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'M-ex',
    tool: 'image-migrator',
    from: 'the images.json example of the docs',
    name: 'three overlapping rules into one repository',
    images: (c) => ({
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd:1.0.0`,
      [`${c.S}/coreos/etcd`]: `${c.D}/${c.ns}/etcd`,
      [`${c.S}/coreos/etcd:2.7.3`]: `${c.D}/${c.ns}/etcd`,
    }),
    original: 'copies every tag once (the overlapping tags are the same copies)',
    expect: {
      repos: { etcd: { '1.0.0': 'coreos/etcd:1.0.0', '2.7.3': 'coreos/etcd:2.7.3', '3.0.0': 'coreos/etcd:3.0.0' } },
    },
  },
  {
    id: 'M-cmd',
    tool: 'image-migrator',
    from: 'the command line of the docs',
    name: '--workers=5 --auth= --images= --namespace= --registry= --retries=2',
    images: (c) => ({ [`${c.S}/coreos/etcd:3.0.0`]: '' }),
    raw: true,
    args: (c) => [
      '--workers=5',
      `--auth=${join(c.dir, 'auth.json')}`,
      `--images=${join(c.dir, 'images.json')}`,
      `--namespace=${c.ns}`,
      `--registry=${c.D}`,
      '--retries=2',
      '--json',
      `--log=${join(c.dir, 'run.log')}`,
    ],
    original: 'copies etcd:3.0.0',
    expect: { repos: { etcd: one('coreos/etcd:3.0.0') } },
  },
  {
    id: 'M-wr',
    tool: 'image-migrator',
    from: 'image-migrator -h',
    name: 'short flags -w 5 -r 2',
    images: (c) => ({ [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/etcd` }),
    args: () => ['-w', '5', '-r', '2'],
    original: 'copies etcd:3.0.0 with 5 workers, 2 retries',
    expect: { repos: { etcd: one('coreos/etcd:3.0.0') } },
  },
  {
    id: 'M-line',
    tool: 'image-migrator',
    from: 'the finishing line of the docs',
    name: '"Images(N) migration finished, F images tasks failed, G tasks generate failed"',
    images: (c) => ({
      [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/etcd`,
      [`${c.S}/coreos/etcd:9.9.9`]: `${c.D}/${c.ns}/etcd`,
      [`${c.S}/coreos/`]: `${c.D}/${c.ns}/etcd`,
    }),
    raw: true,
    args: (c) => [
      '--auth',
      join(c.dir, 'auth.json'),
      '--images',
      join(c.dir, 'images.json'),
      '--log',
      join(c.dir, 'run.log'),
    ],
    original:
      'prints "Images(2) migration finished, 1 images tasks failed, 1 tasks generate failed"; copies etcd:3.0.0',
    expect: {
      exit: 1,
      repos: { etcd: one('coreos/etcd:3.0.0') },
      output: /Images\(2\) migration finished, 1 images tasks failed, 1 tasks generate failed/,
      check: async (c) =>
        assert.match(
          await readFile(join(c.dir, 'run.log'), 'utf8'),
          /Images\(2\) migration finished, 1 images tasks failed, 1 tasks generate failed/,
        ),
    },
  },
  {
    id: 'M-auth',
    tool: 'image-migrator',
    from: 'the auth.json example of the docs',
    name: 'a registry/namespace key with {} (anonymous) and a registry key with credentials',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    auth: (c) => ({
      [`${c.S}/coreos`]: { insecure: true },
      [c.D]: { username: DST_USER, password: '${DST_PASSWORD}', insecure: true },
    }),
    original: 'copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'B-prefix',
    tool: 'both',
    from: 'image-syncer README (auth: "the best (longest) fit"); pkg/utils/string_test.go',
    name: 'the longest auth key wins',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    auth: (c) => ({
      [c.S]: { insecure: true },
      [c.D]: { username: DST_USER, password: 'wrong', insecure: true },
      [`${c.D}/${c.ns}`]: { username: DST_USER, password: '${DST_PASSWORD}' },
    }),
    original: 'uses the registry/namespace credentials: copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },

  // ------------------------------------------------------------------------------------------------------------
  // image-syncer's images file rules (README 1-8) and its own examples
  {
    id: 'S-1',
    tool: 'image-syncer',
    from: 'README rule 1',
    name: 'an empty destination in a list is skipped (image-syncer has no rule 8 default)',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: [''], [`${c.S}/coreos/etcd:2.7.3`]: `${c.D}/${c.ns}/etcd` }),
    original: '"empty destination is not supported": the whole run stops',
    difference:
      'swr-sync reads "" as image-migrator\'s rule 8; without --registry/--namespace that one rule fails to generate and the rest is copied',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:2.7.3') } },
  },
  {
    id: 'S-2',
    tool: 'image-syncer',
    from: 'README rule 2',
    name: 'no tag: every tag of the source',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy`]: `${c.D}/${c.ns}/kube-rbac-proxy` }),
    original: 'copies v1.0, v2.0, v1.1, latest, alpha',
    expect: { repos: { 'kube-rbac-proxy': rbacAll() } },
  },
  {
    id: 'S-3',
    tool: 'image-syncer',
    from: 'README rule 3',
    name: 'a comma list of tags',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy:v1.0,v2.0`]: `${c.D}/${c.ns}/kube-rbac-proxy` }),
    original: 'copies v1.0 and v2.0',
    expect: {
      repos: { 'kube-rbac-proxy': { 'v1.0': 'coreos/kube-rbac-proxy:v1.0', 'v2.0': 'coreos/kube-rbac-proxy:v2.0' } },
    },
  },
  {
    id: 'S-4',
    tool: 'image-syncer',
    from: 'README rule 4',
    name: 'a digest: the destination gets the manifest by digest',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy@${c.digest('coreos/kube-rbac-proxy:v2.0')}`]: `${c.D}/${c.ns}/kube-rbac-proxy`,
    }),
    original: 'pushes the manifest by digest, no tag',
    expect: { absent: ['kube-rbac-proxy'], byDigest: { 'kube-rbac-proxy': 'coreos/kube-rbac-proxy:v2.0' } },
  },
  {
    id: 'S-4b',
    tool: 'image-syncer',
    from: 'README rule 4 ("no digest or the same digest")',
    name: 'src@D to dst@D',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy@${c.digest('coreos/kube-rbac-proxy:v1.0')}`]: `${c.D}/${c.ns}/kube-rbac-proxy@${c.digest('coreos/kube-rbac-proxy:v1.0')}`,
    }),
    original: 'pushes the manifest by digest',
    expect: { absent: ['kube-rbac-proxy'], byDigest: { 'kube-rbac-proxy': 'coreos/kube-rbac-proxy:v1.0' } },
  },
  {
    id: 'S-4c',
    tool: 'image-syncer',
    from: 'README rule 4; pkg/task/rule.go checkSourceAndDestinationURLs',
    name: 'src@D to dst@D2: that rule fails',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy@${c.digest('coreos/kube-rbac-proxy:v1.0')}`]: `${c.D}/${c.ns}/x@${c.digest('coreos/kube-rbac-proxy:v2.0')}`,
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd`,
    }),
    original: '"the digest of source and destination must match": that rule fails, the rest is copied',
    expect: {
      exit: 1,
      generateFailed: 1,
      repos: { etcd: one('coreos/etcd:1.0.0') },
      output: /another digest than the source's/,
    },
  },
  {
    id: 'S-5',
    tool: 'image-syncer',
    from: 'README rule 5 and examples (/a+/)',
    name: 'a tag regex',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy:/a+/`]: `${c.D}/${c.ns}/kube-rbac-proxy` }),
    original: 'copies the tags containing "a": latest, alpha',
    expect: {
      repos: { 'kube-rbac-proxy': { latest: 'coreos/kube-rbac-proxy:latest', alpha: 'coreos/kube-rbac-proxy:alpha' } },
    },
  },
  {
    id: 'S-6',
    tool: 'image-syncer',
    from: 'README rule 6',
    name: 'a destination without tag keeps the source tags',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy:v1.1`]: `${c.D}/${c.ns}/kube-rbac-proxy` }),
    original: 'copies v1.1',
    expect: { repos: { 'kube-rbac-proxy': one('coreos/kube-rbac-proxy:v1.1') } },
  },
  {
    id: 'S-7',
    tool: 'image-syncer',
    from: 'README rule 7',
    name: 'destination tags rename source tags by position',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy:v1.0,v2.0`]: `${c.D}/${c.ns}/kube-rbac-proxy:one,two` }),
    original: 'v1.0 → one, v2.0 → two',
    expect: {
      repos: { 'kube-rbac-proxy': { one: 'coreos/kube-rbac-proxy:v1.0', two: 'coreos/kube-rbac-proxy:v2.0' } },
    },
  },
  {
    id: 'S-7b',
    tool: 'image-syncer',
    from: 'README rule 7',
    name: 'tag counts that differ: that rule fails',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy:v1.0,v2.0`]: `${c.D}/${c.ns}/kube-rbac-proxy:one`,
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd`,
    }),
    original: '"the number of tags of source and destination is not matched": that rule fails',
    expect: { exit: 1, generateFailed: 1, repos: { etcd: one('coreos/etcd:1.0.0') }, absent: ['kube-rbac-proxy'] },
  },
  {
    id: 'S-8',
    tool: 'image-syncer',
    from: 'README rule 8',
    name: 'a list of destinations',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy:v1.1`]: [`${c.D}/${c.ns}/kube-rbac-proxy1`, `${c.D}/${c.ns}/kube-rbac-proxy2`],
    }),
    original: 'copies v1.1 to both',
    expect: {
      repos: {
        'kube-rbac-proxy1': one('coreos/kube-rbac-proxy:v1.1'),
        'kube-rbac-proxy2': one('coreos/kube-rbac-proxy:v1.1'),
      },
    },
  },
  {
    id: 'S-8b',
    tool: 'image-syncer',
    from: 'pkg/utils/types/imageList.go (RemoveDuplicateItems)',
    name: 'a destination listed twice is copied once',
    images: (c) => ({ [`${c.S}/coreos/kube-rbac-proxy:v1.1`]: [`${c.D}/${c.ns}/p`, `${c.D}/${c.ns}/p`] }),
    original: 'copies v1.1 once',
    expect: {
      repos: { p: one('coreos/kube-rbac-proxy:v1.1') },
      check: (_c, _r, json) => assert.equal(json?.summary.images, 1),
    },
  },
  {
    id: 'S-ex-json',
    tool: 'image-syncer',
    from: 'examples/images.json',
    name: 'the official example: five rules, two of them writing the same tags',
    images: (c) => ({
      [`${c.S}/coreos/kube-rbac-proxy`]: `${c.D}/${c.ns}/kube-rbac-proxy`,
      [`${c.S}/coreos/kube-rbac-proxy:v1.0`]: `${c.D}/${c.ns}/kube-rbac-proxy`,
      [`${c.S}/coreos/kube-rbac-proxy:v1.0,v2.0`]: `${c.D}/${c.ns}/kube-rbac-proxy`,
      [`${c.S}/coreos/kube-rbac-proxy:v1.1`]: [`${c.D}/${c.ns}/kube-rbac-proxy1`, `${c.D}/${c.ns}/kube-rbac-proxy2`],
      [`${c.S}/coreos/kube-rbac-proxy:/a+/`]: `${c.D}/${c.ns}/kube-rbac-proxy`,
    }),
    original: 'copies every tag to kube-rbac-proxy and v1.1 to kube-rbac-proxy1/2',
    expect: {
      repos: {
        'kube-rbac-proxy': rbacAll(),
        'kube-rbac-proxy1': one('coreos/kube-rbac-proxy:v1.1'),
        'kube-rbac-proxy2': one('coreos/kube-rbac-proxy:v1.1'),
      },
      check: (_c, _r, json) => assert.equal(json?.summary.images, 7, 'each destination tag copied once'),
    },
  },
  {
    id: 'S-ex-yaml',
    tool: 'image-syncer',
    from: 'examples/images.yaml',
    name: 'the official YAML example, with its digest rule',
    imagesName: 'images.yaml',
    images: (c) =>
      [
        `${c.S}/coreos/kube-rbac-proxy: ${c.D}/${c.ns}/kube-rbac-proxy`,
        `${c.S}/coreos/kube-rbac-proxy:v1.0: ${c.D}/${c.ns}/kube-rbac-proxy`,
        `${c.S}/coreos/kube-rbac-proxy:v1.0,v2.0: ${c.D}/${c.ns}/kube-rbac-proxy`,
        `${c.S}/coreos/kube-rbac-proxy@${c.digest('coreos/kube-rbac-proxy:v2.0')}: ${c.D}/${c.ns}/kube-rbac-proxy`,
        `${c.S}/coreos/kube-rbac-proxy:v1.1:`,
        `  - ${c.D}/${c.ns}/kube-rbac-proxy1`,
        `  - ${c.D}/${c.ns}/kube-rbac-proxy2`,
        `${c.S}/coreos/kube-rbac-proxy:/a+/: ${c.D}/${c.ns}/kube-rbac-proxy`,
        '',
      ].join('\n'),
    original: 'as examples/images.json, plus the v2.0 manifest by digest',
    expect: {
      repos: {
        'kube-rbac-proxy': rbacAll(),
        'kube-rbac-proxy1': one('coreos/kube-rbac-proxy:v1.1'),
        'kube-rbac-proxy2': one('coreos/kube-rbac-proxy:v1.1'),
      },
      byDigest: { 'kube-rbac-proxy': 'coreos/kube-rbac-proxy:v2.0' },
    },
  },
  {
    id: 'S-env',
    tool: 'image-syncer',
    from: 'pkg/utils/types/imageList.go (os.ExpandEnv)',
    name: '${VAR} and $VAR in destinations',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: ['${DST}/${NS}/a', '$DST/$NS/b'] }),
    env: (c) => ({ DST: c.D, NS: c.ns }),
    original: 'expands both forms',
    expect: { repos: { a: one('coreos/etcd:1.0.0'), b: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'S-url-test',
    tool: 'image-syncer',
    from: 'pkg/utils/url_test.go',
    name: 'registry:port/namespace/repository[:tag[,tag]] and /regex/ as its test table',
    images: (c) => ({
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/nginx`,
      [`${c.S}/coreos/etcd:2.7.3,3.0.0`]: `${c.D}/${c.ns}/nginx`,
      [`${c.S}/regex/test:/b+/`]: `${c.D}/${c.ns}/test`,
    }),
    original: 'nginx gets 1.0.0, 2.7.3, 3.0.0; test gets bbb and bbb-old (the tags matching b+)',
    expect: {
      repos: {
        nginx: { '1.0.0': 'coreos/etcd:1.0.0', '2.7.3': 'coreos/etcd:2.7.3', '3.0.0': 'coreos/etcd:3.0.0' },
        test: { bbb: 'regex/test:bbb', 'bbb-old': 'regex/test:bbb-old' },
      },
    },
  },

  // ------------------------------------------------------------------------------------------------------------
  // Tag regexes: Go's regexp (RE2)
  ...(
    [
      ['S-re-digit', '^v[[:digit:]]+', ['v1', 'v12', 'v1.0']],
      ['S-re-quote', '^\\Qv1.0\\E$', ['v1.0']],
      ['S-re-z', 'bbb\\z', ['bbb']],
      ['S-re-i', '(?i)^v2$', ['V2']],
      ['S-re-named', '^(?P<major>v[0-9]+)$', ['v1', 'v12']],
    ] as Array<[string, string, string[]]>
  ).map(([id, pattern, tags]): Case => ({
    id,
    tool: 'image-syncer',
    from: 'README rule 5 (Go regexp syntax)',
    name: `RE2 tag regex /${pattern}/`,
    images: (c) => ({ [`${c.S}/regex/test:/${pattern}/`]: `${c.D}/${c.ns}/test` }),
    original: `copies ${tags.join(', ')}`,
    expect: { repos: { test: Object.fromEntries(tags.map((t) => [t, `regex/test:${t}`])) } },
  })),
  {
    id: 'S-re-bad',
    tool: 'image-syncer',
    from: 'pkg/utils/url.go (regexp.Compile)',
    name: 'a regex Go refuses (a lookahead): that rule fails, the rest is copied',
    images: (c) => ({
      [`${c.S}/regex/test:/(?=v)/`]: `${c.D}/${c.ns}/test`,
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd`,
    }),
    original: '"invalid tag regex": that rule fails',
    expect: {
      exit: 1,
      generateFailed: 1,
      repos: { etcd: one('coreos/etcd:1.0.0') },
      absent: ['test'],
      output: /RE2 regular expression/,
    },
  },

  // ------------------------------------------------------------------------------------------------------------
  // Reading files as Go reads them
  {
    id: 'B-dupkey',
    tool: 'both',
    from: 'encoding/json (the last of two equal keys wins)',
    name: 'a key written twice: the last value is used, with a warning',
    images: (c) =>
      `{ "${c.S}/coreos/etcd:1.0.0": "${c.D}/${c.ns}/first", "${c.S}/coreos/etcd:1.0.0": "${c.D}/${c.ns}/second" }`,
    original: 'copies to second only (silently)',
    expect: {
      repos: { second: one('coreos/etcd:1.0.0') },
      absent: ['first'],
      output: /written twice.*the last one is used/,
    },
  },
  {
    id: 'B-yaml11',
    tool: 'both',
    from: 'go-yaml v2 (YAML 1.1 booleans); examples/auth.yaml',
    name: 'auth.yaml with insecure: yes and an unquoted numeric password',
    authName: 'auth.yaml',
    auth: (c) =>
      `${c.S}:\n  insecure: yes\n${c.D}:\n  username: ${DST_USER}\n  password: ${DST_PASSWORD}\n  insecure: on\n`,
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: 'insecure is true, the password is the text "0755": copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') } },
  },
  {
    id: 'B-email',
    tool: 'both',
    from: 'pkg/utils/types/auth.go (unknown fields ignored)',
    name: 'an unknown auth field (email) is ignored with a warning',
    auth: (c) => ({
      [c.S]: { insecure: true },
      [c.D]: { username: DST_USER, password: '${DST_PASSWORD}', email: 'bot@example.com', insecure: true },
    }),
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: 'ignores email silently: copies etcd:1.0.0',
    expect: { repos: { etcd: one('coreos/etcd:1.0.0') }, output: /unknown field "email" ignored/ },
  },
  {
    id: 'B-copy-email',
    tool: 'both',
    from: 'auth.json as both read it, with swr-sync copy',
    name: 'swr-sync copy --auth with an email field warns and copies',
    auth: (c) => ({
      [c.S]: { insecure: true },
      [c.D]: { username: DST_USER, password: '${DST_PASSWORD}', email: 'bot@example.com', insecure: true },
    }),
    raw: true,
    args: (c) => ['copy', `${c.S}/coreos/etcd:2.7.3`, `${c.D}/${c.ns}/etcd`, '--auth', join(c.dir, 'auth.json')],
    original: 'the email field is ignored',
    expect: { repos: { etcd: one('coreos/etcd:2.7.3') }, output: /unknown field "email" ignored/ },
  },
  {
    id: 'S-config',
    tool: 'image-syncer',
    from: 'examples/config.yaml (--config, before v1.2.0)',
    name: 'the legacy combined file',
    raw: true,
    args: (c) => ['--config', join(c.dir, 'config.yaml'), '--json', '--log', join(c.dir, 'run.log')],
    original: 'reads auth and images from one file: copies v1.0 and v2.0',
    expect: {
      repos: { 'kube-rbac-proxy': { 'v1.0': 'coreos/kube-rbac-proxy:v1.0', 'v2.0': 'coreos/kube-rbac-proxy:v2.0' } },
    },
  },
  {
    id: 'B-strict',
    tool: 'both',
    from: 'swr-sync --strict',
    name: '--strict refuses the file with one invalid rule, nothing copied',
    images: (c) => ({
      [`${c.S}/coreos/etcd`]: `${c.D}/${c.ns}/etcd:x`,
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/one`,
    }),
    args: () => ['--strict'],
    original: 'image-syncer and image-migrator have no such mode: they copy the valid rule',
    difference: 'opt-in all-or-nothing validation for CI (exit 2)',
    expect: { exit: 2, absent: ['etcd', 'one'], output: /rule 6/ },
  },
  {
    id: 'B-http',
    tool: 'both',
    from: 'auth.json "insecure" ("needs to be true if this registry is a http service")',
    name: 'a plain-HTTP registry without insecure: a hint',
    auth: (c) => ({ [c.D]: { username: DST_USER, password: '${DST_PASSWORD}', insecure: true } }),
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: 'fails with "http: server gave HTTP response to HTTPS client"',
    expect: {
      exit: 1,
      absent: ['etcd'],
      output: /looks like plain HTTP; set insecure: true in auth\.json for 127\.0\.0\.1:\d+/,
    },
  },

  // ------------------------------------------------------------------------------------------------------------
  // image-syncer's flags
  {
    id: 'S-proc',
    tool: 'image-syncer',
    from: 'README example: --proc=6 --auth --images --retries=3',
    name: 'the command line of the README',
    images: (c) => ({ [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/etcd` }),
    raw: true,
    args: (c) => [
      '--proc=6',
      `--auth=${join(c.dir, 'auth.json')}`,
      `--images=${join(c.dir, 'images.json')}`,
      '--retries=3',
      '--json',
      `--log=${join(c.dir, 'run.log')}`,
    ],
    original: 'copies etcd:3.0.0',
    expect: { repos: { etcd: one('coreos/etcd:3.0.0') } },
  },
  {
    id: 'S-p',
    tool: 'image-syncer',
    from: 'cmd/image-syncer.go (-p, -r)',
    name: 'short flags -p 2 -r 1',
    images: (c) => ({ [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/etcd` }),
    args: () => ['-p', '2', '-r', '1'],
    original: 'copies etcd:3.0.0',
    expect: { repos: { etcd: one('coreos/etcd:3.0.0') } },
  },
  {
    id: 'S-force',
    tool: 'image-syncer',
    from: 'README (--force)',
    name: '--force on a second run',
    images: (c) => ({ [`${c.S}/coreos/etcd:3.0.0`]: `${c.D}/${c.ns}/etcd` }),
    args: () => ['--force'],
    twice: true,
    original: 'pushes the manifest again; the destination is unchanged',
    difference:
      'swr-sync checks the destination (as --verify-destination) and does not rewrite a byte-identical manifest',
    expect: {
      repos: { etcd: one('coreos/etcd:3.0.0') },
      check: (_c, _r, json) => assert.equal(json?.summary.unchanged, 1),
    },
  },
  {
    id: 'S-incr',
    tool: 'image-syncer',
    from: 'README (incremental synchronization)',
    name: 'a second run skips unchanged images',
    images: (c) => ({ [`${c.S}/coreos/etcd`]: `${c.D}/${c.ns}/etcd` }),
    twice: true,
    original: '"skip synchronization because destination image exists"',
    expect: {
      repos: { etcd: { '1.0.0': 'coreos/etcd:1.0.0', '2.7.3': 'coreos/etcd:2.7.3', '3.0.0': 'coreos/etcd:3.0.0' } },
      check: (_c, _r, json) => assert.deepEqual([json?.summary.unchanged, json?.summary.copied], [3, 0]),
    },
  },
  {
    id: 'S-success-yaml',
    tool: 'image-syncer',
    from: 'cmd/image-syncer.go (--output-success-images, yaml default)',
    name: 'the success images file, YAML',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: [`${c.D}/${c.ns}/a`, `${c.D}/${c.ns}/b`] }),
    args: (c) => ['--output-success-images', join(c.dir, 'success.yaml')],
    original: 'writes { source: [destinations] } as YAML',
    expect: {
      repos: { a: one('coreos/etcd:1.0.0'), b: one('coreos/etcd:1.0.0') },
      check: async (c) =>
        assert.deepEqual(parseYaml(await readFile(join(c.dir, 'success.yaml'), 'utf8')), {
          [`${c.S}/coreos/etcd:1.0.0`]: [`${c.D}/${c.ns}/a:1.0.0`, `${c.D}/${c.ns}/b:1.0.0`],
        }),
    },
  },
  {
    id: 'S-success-json',
    tool: 'image-syncer',
    from: 'cmd/image-syncer.go (--output-images-format json)',
    name: 'the success images file, JSON, read back as an images file',
    images: (c) => ({ [`${c.S}/coreos/etcd:2.7.3`]: `${c.D}/${c.ns}/etcd` }),
    args: (c) => ['--output-success-images', join(c.dir, 'success.json'), '--output-images-format', 'json'],
    original: 'writes { source: [destinations] } as JSON',
    difference:
      'images already at the destination are listed too (image-syncer leaves them out, marked TODO in its source)',
    expect: {
      repos: { etcd: one('coreos/etcd:2.7.3') },
      check: async (c) =>
        assert.deepEqual(JSON.parse(await readFile(join(c.dir, 'success.json'), 'utf8')), {
          [`${c.S}/coreos/etcd:2.7.3`]: [`${c.D}/${c.ns}/etcd:2.7.3`],
        }),
    },
  },
  {
    id: 'S-log',
    tool: 'image-syncer',
    from: 'README (--log)',
    name: '--log writes one line per image and the finishing line',
    images: (c) => ({ [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd` }),
    original: 'logs to the file',
    expect: {
      repos: { etcd: one('coreos/etcd:1.0.0') },
      check: async (c) =>
        assert.match(
          await readFile(join(c.dir, 'run.log'), 'utf8'),
          /copied .*etcd:1\.0\.0[\s\S]*migration finished, 0 images tasks failed, 0 tasks generate failed/,
        ),
    },
  },

  // ------------------------------------------------------------------------------------------------------------
  // Platform filters: pkg/sync/manifest.go platformValidate (os[:osversion], arch[:variant]; both must match)
  {
    id: 'S-osarch',
    tool: 'image-syncer',
    from: 'README (--os, --arch); platformValidate',
    name: '--os linux --arch amd64 on a multi-arch index',
    images: (c) => ({ [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app` }),
    args: () => ['--os', 'linux', '--arch', 'amd64'],
    original: 'writes a new index holding the linux/amd64 entry',
    expect: {
      check: (c) =>
        expectIndexChildren(
          c,
          'app:1.0',
          c.index('multi/app:1.0').children.filter((m) => m.platform?.architecture === 'amd64'),
        ),
    },
  },
  {
    id: 'S-arch-variant',
    tool: 'image-syncer',
    from: 'platformValidate (arch:variant)',
    name: '--arch arm64:v8 on a multi-arch index',
    images: (c) => ({ [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app` }),
    args: () => ['--arch', 'arm64:v8'],
    original: 'writes a new index holding the arm64/v8 entry',
    expect: {
      check: (c) =>
        expectIndexChildren(
          c,
          'app:1.0',
          c.index('multi/app:1.0').children.filter((m) => m.platform?.architecture === 'arm64'),
        ),
    },
  },
  {
    id: 'S-os-only',
    tool: 'image-syncer',
    from: 'platformValidate (an empty list matches any)',
    name: '--os linux alone keeps every linux entry',
    images: (c) => ({ [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app` }),
    args: () => ['--os', 'linux'],
    original: 'every entry matches: the index is copied as it is',
    expect: { repos: { app: one('multi/app:1.0') } },
  },
  {
    id: 'S-os-none',
    tool: 'image-syncer',
    from: 'pkg/task/url.go ("no manifest fits platform filters")',
    name: '--os windows on a linux index: skipped',
    images: (c) => ({
      [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app`,
      [`${c.S}/coreos/etcd:1.0.0`]: `${c.D}/${c.ns}/etcd`,
    }),
    args: () => ['--os', 'windows'],
    original: 'skips both (etcd is linux/amd64 too), exit 0',
    expect: { absent: ['app', 'etcd'], skipped: 2 },
  },
  {
    id: 'S-arch-single',
    tool: 'image-syncer',
    from: "pkg/sync/manifest.go (a single image's platform from its config)",
    name: '--arch arm64: an amd64 image is skipped, an arm64 one copied',
    images: (c) => ({
      [`${c.S}/single/amd64:1.0`]: `${c.D}/${c.ns}/amd`,
      [`${c.S}/single/arm64:1.0`]: `${c.D}/${c.ns}/arm`,
      [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app`,
    }),
    args: () => ['--arch', 'arm64'],
    original: 'amd64 image skipped; arm64 image copied as it is; the index filtered to arm64',
    expect: {
      skipped: 1,
      absent: ['amd'],
      repos: { arm: one('single/arm64:1.0') },
      check: async (c, run, json) => {
        await expectIndexChildren(
          c,
          'app:1.0',
          c.index('multi/app:1.0').children.filter((m) => m.platform?.architecture === 'arm64'),
        );
        const skipped = json?.images.find((r) => r.status === 'skipped');
        assert.match(skipped?.note ?? '', /linux\/amd64, not one of the requested platforms/);
        assert.match(await readFile(join(c.dir, 'run.log'), 'utf8'), /skipped .*single\/amd64:1\.0/);
      },
    },
  },
  {
    id: 'B-platform-single',
    tool: 'both',
    from: 'swr-sync --platform (image-syncer --os linux --arch arm64)',
    name: '--platform linux/arm64 skips an amd64 single image',
    images: (c) => ({ [`${c.S}/single/amd64:1.0`]: `${c.D}/${c.ns}/amd` }),
    args: () => ['--platform', 'linux/arm64'],
    original: 'image-syncer --os linux --arch arm64 skips it',
    expect: { skipped: 1, absent: ['amd'] },
  },
  {
    id: 'B-plan-skip',
    tool: 'both',
    from: "swr-sync plan (dry run) with image-syncer's --os/--arch",
    name: 'plan reports what a platform filter skips',
    images: (c) => ({
      [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app`,
      [`${c.S}/single/amd64:1.0`]: `${c.D}/${c.ns}/amd`,
      [`${c.S}/single/arm64:1.0`]: `${c.D}/${c.ns}/arm`,
    }),
    raw: true,
    args: (c) => [
      'plan',
      '--images',
      join(c.dir, 'images.json'),
      '--auth',
      join(c.dir, 'auth.json'),
      '--json',
      '--os',
      'linux',
      '--arch',
      's390x',
    ],
    original: 'image-syncer has no dry run; its sync would skip all three',
    expect: {
      absent: ['app', 'amd', 'arm'],
      check: (_c, run) => {
        const plan = JSON.parse(run.stdout) as {
          summary: { skipped: number; new: number };
          entries: Array<{ status: string; note?: string }>;
        };
        assert.deepEqual([plan.summary.skipped, plan.summary.new], [3, 0]);
        assert.ok(
          plan.entries.every(
            (e) => e.status === 'skipped' && /requested platforms \(linux\/s390x\)/.test(e.note ?? ''),
          ),
          run.stdout,
        );
      },
    },
  },
  {
    id: 'B-platform-any-os',
    tool: 'both',
    from: 'swr-sync --platform */arm64 (image-syncer --arch alone)',
    name: '--platform */arm64',
    images: (c) => ({ [`${c.S}/multi/app:1.0`]: `${c.D}/${c.ns}/app` }),
    args: () => ['--platform', '*/arm64'],
    original: 'as --arch arm64',
    expect: {
      check: (c) =>
        expectIndexChildren(
          c,
          'app:1.0',
          c.index('multi/app:1.0').children.filter((m) => m.platform?.architecture === 'arm64'),
        ),
    },
  },
];

/** The destination `ns/repo:tag` is an index of exactly `children` (by digest), each child present. */
async function expectIndexChildren(c: Ctx, repoTag: string, children: BuiltManifest[]): Promise<void> {
  const [repo, tag] = repoTag.split(':') as [string, string];
  const top = await fetchManifest(c.dst, `${c.ns}/${repo}`, tag);
  assert.equal(top.status, 200, `${c.ns}/${repoTag} exists`);
  const index = JSON.parse(top.bytes!.toString('utf8')) as { manifests: Array<{ digest: string }> };
  assert.deepEqual(
    index.manifests.map((m) => m.digest),
    children.map((m) => m.digest),
  );
  for (const child of children)
    assert.equal((await fetchManifest(c.dst, `${c.ns}/${repo}`, child.digest)).status, 200, child.digest);
}

/** The case table of docs/migrating.md, in Markdown: `node lib/test/integration/compat-cases.js --table`. */
export function caseTable(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/`/g, "'");
  const rows = CASES.map(
    (k) =>
      `| ${k.id} | ${cell(k.tool)} (${cell(k.from)}) | ${cell(k.name)} | ${cell(k.original)} | ${k.difference ? `**differs:** ${cell(k.difference)}` : 'same tags and digests'} |`,
  );
  return ['| case | original, source | what | original tool | swr-sync |', '|---|---|---|---|---|', ...rows].join('\n');
}

if (process.argv.includes('--table')) process.stdout.write(`${caseTable()}\n`);
