import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { annotations, runAction, visibleStdout } from '../action/support.js';
import { startProxy, startRegistry, type RunningRegistry } from '../harness/index.js';
import { runCli } from './support.js';

/**
 * The bad-input corpus (issue 8): malformed files, references, flags and action inputs. Each gives exit 2 (the
 * action: a failed step) with one message naming the file, flag, key or input and the rule it breaks, no stack
 * trace, and nothing sent: every reference points at counting proxies in front of real registries, and each case
 * has its own pair, which must see no request at all. Canary secrets in the broken files never appear either.
 */

const CANARY = 'CANARY-bad-input-7f3a9c';
const HEX = 'c'.repeat(64);
const re = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

interface Ctx {
  /** host:port of the proxies in front of the source and destination registries. */
  S: string;
  D: string;
  dir: string;
  /** Writes `content` (text, or JSON of a value) to `name` in the case's directory; returns the path. */
  file(name: string, content: unknown): Promise<string>;
}

interface BadInput {
  name: string;
  args(ctx: Ctx): string[] | Promise<string[]>;
  /** What stderr must say: the file, flag or key, and the rule. */
  expect: RegExp | ((ctx: Ctx) => RegExp);
  env?: Record<string, string>;
}

const images = (ctx: Ctx, name: string, rules: unknown) => ctx.file(name, rules);
const validImages = (ctx: Ctx) => images(ctx, 'images.json', { [`${ctx.S}/lib/app:v1`]: `${ctx.D}/mirror/app:v1` });
// --strict: all-or-nothing validation, for CI. Without it an invalid rule is skipped as image-syncer and image-migrator
// do, and the rest is copied (test/integration/compat-*.test.ts).
const sync = async (ctx: Ctx, name: string, rules: unknown, ...extra: string[]) => [
  'sync',
  '--strict',
  '--images',
  await images(ctx, name, rules),
  ...extra,
];

const CASES: BadInput[] = [
  // References (distribution's grammar)
  {
    name: 'uppercase repository',
    args: (c) => ['copy', `${c.S}/Team/App:v1`, `${c.D}/m/app:v1`],
    expect: (c) => new RegExp(`invalid image reference "${re(c.S)}/Team/App:v1": repository names must be lowercase`),
  },
  {
    name: 'empty path element',
    args: (c) => ['copy', `${c.S}/a//b:v1`, `${c.D}/m/app:v1`],
    expect: /invalid image reference ".*\/a\/\/b:v1": .*path components must not be empty/,
  },
  {
    name: 'bad digest algorithm',
    args: (c) => ['copy', `${c.S}/a@md5:${HEX}`, `${c.D}/m/app:v1`],
    expect: /invalid image reference .*digest algorithm "md5" is not supported/,
  },
  {
    name: 'bad digest length',
    args: (c) => ['copy', `${c.S}/a@sha256:abc`, `${c.D}/m/app:v1`],
    expect: /invalid image reference .*exactly 64 lowercase hex characters \(found 3\)/,
  },
  {
    name: 'tag too long',
    args: (c) => ['copy', `${c.S}/a:${'t'.repeat(129)}`, `${c.D}/m/app:v1`],
    expect: /invalid image reference .*a tag is at most 128 characters \(found 129\)/,
  },
  {
    name: 'bad destination reference',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/UP/x`],
    expect: (c) => new RegExp(`invalid image reference "${re(c.D)}/UP/x": .*lowercase`),
  },
  {
    name: 'URL instead of a reference',
    args: (c) => ['copy', `https://${c.S}/a:v1`, `${c.D}/m/app:v1`],
    expect: /invalid image reference "https:.*has no URL scheme/,
  },
  // Commands and flags
  {
    name: 'missing destination argument',
    args: (c) => ['copy', `${c.S}/a:v1`],
    expect: /missing required argument 'destination'/,
  },
  {
    name: 'unknown flag',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--bogus'],
    expect: /unknown option '--bogus'/,
  },
  {
    name: 'misspelt flag on sync',
    args: async (c) => ['sync', '--image', await validImages(c)],
    expect: /unknown option '--image'/,
  },
  { name: 'unknown command', args: () => ['frobnicate'], expect: /unknown command 'frobnicate'/ },
  // OCI layout sources that are not there (a typo in the path): said before anything is sent, not "manifest unknown"
  {
    name: 'oci: source directory missing',
    args: (c) => ['copy', `oci:${c.dir}/no-such-layout:v1`, `${c.D}/m/app:v1`],
    expect: (c) =>
      new RegExp(`source oci:${re(c.dir)}/no-such-layout:v1: no such directory: ${re(c.dir)}/no-such-layout`),
  },
  {
    name: 'oci: source directory without index.json',
    args: (c) => ['copy', `oci:${c.dir}`, `${c.D}/m/app:v1`],
    expect: /is not an OCI image layout: index\.json is missing/,
  },
  {
    name: 'oci-archive: source file missing',
    args: (c) => ['copy', `oci-archive:${c.dir}/no-such.tar:v1`, `${c.D}/m/app:v1`],
    expect: (c) => new RegExp(`no such file: ${re(c.dir)}/no-such\\.tar`),
  },
  {
    name: 'oci-archive: source is a directory',
    args: (c) => ['copy', `oci-archive:${c.dir}:v1`, `${c.D}/m/app:v1`],
    expect: /is not a file: oci-archive: names a tar file/,
  },
  {
    name: '--platform without an architecture',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--platform', 'linux'],
    expect: /--platform "linux" is not os\/arch\[\/variant\]/,
  },
  {
    name: '--platform with too many parts',
    args: async (c) => ['sync', '--images', await validImages(c), '--platform', 'linux/amd64/v8/x'],
    expect: /--platform "linux\/amd64\/v8\/x" is not os\/arch\[\/variant\]/,
  },
  {
    name: '--timeout not a duration',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--timeout', '5y'],
    expect: /--timeout must be a duration such as 90s, 30m or 2h/,
  },
  {
    name: '--timeout of zero',
    args: async (c) => ['sync', '--images', await validImages(c), '--timeout', '0'],
    expect: /--timeout must be a duration such as 90s, 30m or 2h/,
  },
  {
    name: '--stall-timeout of zero',
    args: async (c) => ['sync', '--images', await validImages(c), '--stall-timeout', '0s'],
    expect: /--stall-timeout must be a duration/,
  },
  {
    name: '--retries negative',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--retries', '-1'],
    expect: /--retries must be an integer from 0 to 20/,
  },
  {
    name: '--retries too large',
    args: async (c) => ['sync', '--images', await validImages(c), '--retries', '21'],
    expect: /--retries must be an integer from 0 to 20/,
  },
  {
    name: '--workers of zero',
    args: async (c) => ['sync', '--images', await validImages(c), '--workers', '0'],
    expect: /--workers must be an integer from 1 to 256/,
  },
  {
    name: '--workers not a number',
    args: async (c) => ['sync', '--images', await validImages(c), '--workers', 'abc'],
    expect: /--workers must be an integer from 1 to 256/,
  },
  {
    name: '--shard 0/2',
    args: async (c) => ['sync', '--images', await validImages(c), '--shard', '0/2'],
    expect: /--shard "0\/2" must be I\/N with 1 <= I <= N <= 10000/,
  },
  {
    name: '--shard beyond its count',
    args: async (c) => ['sync', '--images', await validImages(c), '--shard', '3/2'],
    expect: /--shard "3\/2" must be I\/N/,
  },
  {
    name: '--shard not I/N',
    args: async (c) => ['plan', '--images', await validImages(c), '--shard', 'half'],
    expect: /--shard "half" must be I\/N/,
  },
  // Files that cannot be read or written
  {
    name: 'missing auth file',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--auth', join(c.dir, 'absent.json')],
    expect: /absent\.json: file not found/,
  },
  {
    name: 'unreadable auth file (a directory)',
    args: async (c) => {
      await mkdir(join(c.dir, 'unreadable.json'));
      return ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--auth', join(c.dir, 'unreadable.json')];
    },
    expect: /unreadable\.json: is a directory, not a file/,
  },
  {
    name: 'missing images file',
    args: (c) => ['sync', '--images', join(c.dir, 'no-images.json')],
    expect: /no-images\.json: file not found/,
  },
  {
    name: 'unreadable images file (a directory)',
    args: async (c) => {
      await mkdir(join(c.dir, 'images.d'));
      return ['sync', '--images', join(c.dir, 'images.d')];
    },
    expect: /images\.d: is a directory, not a file/,
  },
  {
    name: 'missing destination authfile',
    args: (c) => ['copy', `${c.S}/a:v1`, `${c.D}/m/app:v1`, '--dest-authfile', join(c.dir, 'nope.json')],
    expect: /nope\.json/,
  },
  {
    name: 'log file that cannot be written',
    args: async (c) => {
      await mkdir(join(c.dir, 'log.d'));
      return ['sync', '--images', await validImages(c), '--log', join(c.dir, 'log.d')];
    },
    expect: /log\.d: cannot write the log file \(EISDIR\)/,
  },
  // auth.json and authfiles
  {
    name: 'broken JSON auth file (its text, a password, is not quoted)',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--auth',
      await c.file('broken-auth.json', `{ "${c.S}": { "username": "u", "password": "${CANARY}", `),
    ],
    expect: /broken-auth\.json: not valid JSON or YAML at line \d+, column \d+/,
  },
  {
    name: 'wrong type in auth file',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--auth',
      await c.file('wrong-type.json', {
        [c.S]: { username: 'u', password: 42 },
        [c.D]: { username: 'u', password: CANARY },
      }),
    ],
    expect: (c) => new RegExp(`wrong-type\\.json, key "${re(c.S)}": "password" must be a string`),
  },
  {
    name: 'unset ${VAR} in auth file',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--auth',
      await c.file('unset-var.json', { [c.S]: { username: 'u', password: '${SWR_TEST_UNSET_VARIABLE}' } }),
    ],
    expect: /unset-var\.json.*SWR_TEST_UNSET_VARIABLE/,
  },
  {
    name: 'auth file key that is no registry',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--auth',
      await c.file('bad-key.json', { 'my registry': { username: 'u', password: CANARY } }),
    ],
    expect: /bad-key\.json, key "my registry": is not "registry\[:port\]" or "registry\[:port\]\/namespace"/,
  },
  {
    name: 'auth file user without password',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--auth',
      await c.file('no-password.json', { [c.D]: { username: 'u' } }),
    ],
    expect: (c) => new RegExp(`no-password\\.json, key "${re(c.D)}": "password" is missing`),
  },
  {
    name: 'docker config authfile with a bad "auth"',
    args: async (c) => [
      'copy',
      `${c.S}/a:v1`,
      `${c.D}/m/app:v1`,
      '--src-authfile',
      await c.file('docker-bad.json', { auths: { [c.S]: { auth: Buffer.from(CANARY).toString('base64') } } }),
    ],
    expect: /docker-bad\.json, key "auths\[.*\]": "auth" must be base64 of "username:password"/,
  },
  // images.json: syntax and types
  {
    name: 'broken JSON images file',
    args: (c) => c.file('broken-images.json', `{ "${c.S}/lib/app:v1": `).then((f) => ['sync', '--images', f]),
    expect: /broken-images\.json: not valid JSON or YAML at line 1, column \d+/,
  },
  {
    name: 'broken YAML images file',
    args: (c) => c.file('broken.yaml', 'a: [b\n  c: d\n').then((f) => ['sync', '--images', f]),
    expect: /broken\.yaml: not valid JSON or YAML at line 1/,
  },
  {
    name: 'images file that is a list',
    args: (c) => sync(c, 'array.json', []),
    expect: /array\.json: must be an object mapping each source/,
  },
  {
    name: 'destination that is a number',
    args: (c) => sync(c, 'number.json', { [`${c.S}/a/b:v1`]: 42 }),
    expect: /number\.json, key ".*\/a\/b:v1": destination must be a string/,
  },
  // images.json: image-migrator's eight rules
  {
    name: 'rule 1: a source naming only a registry',
    args: (c) => sync(c, 'r1.json', { [c.S]: `${c.D}/x/y` }),
    expect: /r1\.json, key ".*": source ".*" names only a registry: a rule copies one repository.*\(rule 1\)/,
  },
  {
    name: 'rule 1: a wildcard source',
    args: (c) => sync(c, 'r1-star.json', { [`${c.S}/lib/*`]: `${c.D}/x` }),
    expect: /r1-star\.json, key ".*\/lib\/\*": .*contains "\*".*\(rule 1\)/,
  },
  {
    name: 'rule 2: an uppercase destination repository',
    args: (c) => sync(c, 'r2.json', { [`${c.S}/a/b:v1`]: `${c.D}/X/y:v1` }),
    expect:
      /r2\.json, key ".*\/a\/b:v1": destination ".*\/X\/y:v1" is not registry\/namespace\/repository\[:tag\]: repository names must be lowercase.*\(rule 2\)/,
  },
  {
    name: 'rule 3: a destination without its registry',
    args: (c) => sync(c, 'r3.json', { [`${c.S}/a/b:v1`]: 'y' }),
    expect: /r3\.json, key ".*": destination "y" must name a registry and a repository.*\(rule 3\)/,
  },
  {
    name: 'rule 4: an empty source',
    args: (c) => sync(c, 'r4.json', { '': `${c.D}/x/y` }),
    expect: /r4\.json: the source is empty: each key names a source repository \(rule 4\)/,
  },
  {
    name: 'rule 5: a renamed destination still follows the grammar',
    args: (c) => sync(c, 'r5.json', { [`${c.S}/a/b:v1`]: `${c.D}/x/My_Y:v1` }),
    expect: /r5\.json, key ".*": destination ".*\/x\/My_Y:v1" .*lowercase.*\(rule 2\)/,
  },
  {
    name: 'rule 6: a destination tag for all tags',
    args: (c) => sync(c, 'r6.json', { [`${c.S}/a/b`]: `${c.D}/x/y:v1` }),
    expect: /r6\.json, key ".*\/a\/b": destination ".*" must not have a tag when the source has none \(rule 6/,
  },
  {
    name: 'rule 7: two destination tags for one source tag',
    args: (c) => sync(c, 'r7.json', { [`${c.S}/a/b:v1`]: `${c.D}/x/y:a,b` }),
    expect: /r7\.json, key ".*": destination ".*" has 2 tags for the source's 1.*\(rule 7\)/,
  },
  {
    name: 'rule 8: an empty destination without defaults',
    args: (c) => sync(c, 'r8.json', { [`${c.S}/a/b:v1`]: '' }),
    expect:
      /r8\.json, key ".*": destination is empty, so it defaults to <registry>\/<namespace>\/b \(rule 8\), but no default registry and namespace are set/,
  },
  {
    name: 'rule 8: a default registry that is no host',
    args: (c) => sync(c, 'r8-registry.json', { [`${c.S}/a/b:v1`]: '' }, '--registry', 'swr', '--namespace', 'test'),
    expect: /r8-registry\.json, key ".*": .*\(rule 8\), but the default registry "swr" .* is not a registry host/,
  },
  {
    name: 'two keys writing one destination',
    args: (c) => sync(c, 'twice.json', { [`${c.S}/a/b:v1`]: `${c.D}/x/y:v1`, [`${c.S}/a/c:v1`]: `${c.D}/x/y:v1` }),
    expect: /twice\.json, key ".*\/a\/c:v1": destination ".*\/x\/y:v1" is also written by key ".*\/a\/b:v1"/,
  },
  {
    name: 'a key written twice',
    args: (c) =>
      c
        .file('dup.json', `{ "${c.S}/a/b:v1": "${c.D}/x/y:v1", "${c.S}/a/b:v1": "${c.D}/x/z:v1" }`)
        .then((f) => ['sync', '--strict', '--images', f]),
    expect: /dup\.json: a key is written twice in one object at line 1/,
  },
  {
    name: 'unset ${VAR} in an images file key',
    args: (c) => sync(c, 'var.json', { '${SWR_TEST_UNSET_REGISTRY}/a/b:v1': `${c.D}/x/y:v1` }),
    expect: /var\.json, key "\$\{SWR_TEST_UNSET_REGISTRY\}\/a\/b:v1": source: .*SWR_TEST_UNSET_REGISTRY/,
  },
  // Mirror specs and lock files
  {
    name: 'mirror spec of an unknown version',
    args: (c) => sync(c, 'spec-v2.json', { version: 2, images: [] }),
    expect: /spec-v2\.json: mirror spec version 2 is not supported: this swr-sync reads version 1/,
  },
  {
    name: 'mirror spec image without a source',
    args: (c) => sync(c, 'spec-nosource.json', { version: 1, images: [{ id: 'x', destination: `${c.D}/x/y` }] }),
    expect: /spec-nosource\.json, key "images\[0\] \(id "x"\)": "source" must be a string/,
  },
  {
    name: 'lock file that is not one',
    args: async (c) => [
      'sync',
      '--images',
      await validImages(c),
      '--lock',
      await c.file('lock-bad.json', { version: 1, images: { x: 1 } }),
    ],
    expect: /lock-bad\.json, key "images\.x": not a swr-mirror lock file/,
  },
  {
    name: 'lock merge of a file that is not a lock file',
    args: async (c) => ['lock', 'merge', await c.file('lock-bad.json', { version: 1, images: { x: 1 } })],
    expect: /lock-bad\.json, key "images\.x": not a swr-mirror lock file/,
  },
  {
    name: 'plan of an images file that breaks a rule',
    args: (c) =>
      c.file('plan.json', { [`${c.S}/a/b:v1`]: `${c.D}/X/y:v1` }).then((f) => ['plan', '--strict', '--images', f]),
    expect: /plan\.json, key ".*": destination .*\(rule 2\)/,
  },
  { name: 'login-key without an AK', args: () => ['login-key'], expect: /HW_ACCESS_KEY is not set/ },
];

describe('bad input: exit 2, a message naming what and why, nothing sent', { concurrency: 3 }, () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let base: string;

  before(async () => {
    [src, dst] = await Promise.all([startRegistry({ tmpfs: true }), startRegistry({ auth: 'basic', tmpfs: true })]);
    base = await mkdtemp(join(tmpdir(), 'swr-sync-bad-input-'));
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  test(`the corpus has at least 40 cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 40);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'names are unique');
  });

  for (const [i, c] of CASES.entries()) {
    test(c.name, async () => {
      const [srcProxy, dstProxy] = await Promise.all([
        startProxy({ target: src.url }),
        startProxy({ target: dst.url }),
      ]);
      try {
        const dir = join(base, String(i));
        await mkdir(dir);
        const ctx: Ctx = {
          S: srcProxy.host,
          D: dstProxy.host,
          dir,
          async file(name, content) {
            const path = join(dir, name);
            await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
            return path;
          },
        };
        const run = await runCli(await c.args(ctx), { env: c.env ?? {} });
        assert.equal(run.code, 2, `exit status 2; stderr: ${run.stderr}`);
        assert.match(run.stderr, typeof c.expect === 'function' ? c.expect(ctx) : c.expect);
        assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
        assert.equal(run.stdout, '', 'nothing on stdout');
        assert.ok(!(run.stdout + run.stderr).includes(CANARY), 'no secret shown');
        assert.deepEqual(
          [...srcProxy.requests, ...dstProxy.requests].map((r) => `${r.method} ${r.path}`),
          [],
          'no request sent',
        );
      } finally {
        await Promise.all([srcProxy.stop(), dstProxy.stop()]);
      }
    });
  }
});

interface BadActionInput {
  name: string;
  inputs(ctx: { S: string; D: string; workspace: string }): Record<string, string> | Promise<Record<string, string>>;
  /** The start of the step's one error annotation. */
  message: string | RegExp;
}

const ACTION_CASES: BadActionInput[] = [
  {
    name: 'workers not a number',
    inputs: () => ({ workers: 'x' }),
    message: 'input "workers": expected a positive integer, got "x"',
  },
  {
    name: 'workers of zero',
    inputs: () => ({ workers: '0' }),
    message: 'input "workers": expected a positive integer from 1 to 256, got "0"',
  },
  {
    name: 'retries negative',
    inputs: () => ({ retries: '-1' }),
    message: 'input "retries": expected a non-negative integer, got "-1"',
  },
  { name: 'shard beyond its count', inputs: () => ({ shard: '3/2' }), message: 'input "shard": expected I/N' },
  {
    name: 'mode unknown',
    inputs: () => ({ mode: 'apply' }),
    message: 'input "mode": expected "sync" or "plan", got "apply"',
  },
  {
    name: 'summary not a boolean',
    inputs: () => ({ summary: 'yes' }),
    message: 'input "summary": expected true or false, got "yes"',
  },
  {
    name: 'platforms without an architecture',
    inputs: () => ({ platforms: 'linux' }),
    message: 'input "platforms": "linux" is not os/arch[/variant]',
  },
  {
    name: 'manifest that does not exist',
    inputs: () => ({ images: '', manifest: 'missing.out' }),
    message: 'input "manifest": no file or directory at "missing.out"',
  },
  {
    name: 'images naming no file and not inline',
    inputs: () => ({ images: 'nothing-here.json' }),
    message: 'input "images": no file at "nothing-here.json"',
  },
  {
    name: 'inline images breaking rule 6',
    inputs: ({ S, D }) => ({ images: JSON.stringify({ [`${S}/lib/app`]: `${D}/mirror/app:v1` }) }),
    message:
      /^input "images", key ".*\/lib\/app": destination ".*" must not have a tag when the source has none \(rule 6/,
  },
  {
    name: 'inline auth without a password',
    inputs: ({ D }) => ({ auth: JSON.stringify({ [D]: { username: 'u', insecure: true } }) }),
    message: /^input "auth", key "127\.0\.0\.1:\d+": "password" is missing/,
  },
  {
    name: 'inline auth that is broken JSON (not quoted back)',
    inputs: ({ D }) => ({ auth: `{ "${D}": { "username": "u", "password": "${CANARY}",` }),
    message: /^input "auth"/,
  },
  {
    name: 'with-referrers not a boolean',
    inputs: () => ({ 'with-referrers': 'yes' }),
    message: 'input "with-referrers": expected true or false, got "yes"',
  },
  {
    name: 'rate of zero',
    inputs: () => ({ rate: '0' }),
    message: 'input "rate": expected a positive number of requests per second, e.g. 10 or 0.5, got "0"',
  },
  {
    name: 'bandwidth in bits',
    inputs: () => ({ bandwidth: '10Mb' }),
    message: 'input "bandwidth": expected a number of bytes per second',
  },
  {
    name: 'timeout without a duration',
    inputs: () => ({ timeout: 'forever' }),
    message: 'input "timeout": expected a duration such as 90s, 30m or 2h (at most 7 days), got "forever"',
  },
  {
    name: 'lock file that is not one',
    inputs: async ({ workspace }) => {
      await writeFile(join(workspace, 'lock.json'), '{"version": 1, "images": {"x": 1}}');
      return { 'lock-file': 'lock.json' };
    },
    message: /lock\.json, key "images\.x": not a swr-mirror lock file/,
  },
];

describe('bad GitHub Action inputs: a failed step naming the input, nothing sent', { concurrency: 3 }, () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;

  before(async () => {
    [src, dst] = await Promise.all([startRegistry({ tmpfs: true }), startRegistry({ auth: 'basic', tmpfs: true })]);
  });
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
  });

  for (const c of ACTION_CASES) {
    test(c.name, async () => {
      const [srcProxy, dstProxy] = await Promise.all([
        startProxy({ target: src.url }),
        startProxy({ target: dst.url }),
      ]);
      try {
        const workspace = await mkdtemp(join(tmpdir(), 'swr-action-bad-'));
        const ctx = { S: srcProxy.host, D: dstProxy.host, workspace };
        const valid = {
          images: JSON.stringify({ [`${ctx.S}/lib/app:v1`]: `${ctx.D}/mirror/app:v1` }),
          auth: JSON.stringify({
            [ctx.S]: { insecure: true },
            [ctx.D]: { username: dst.username, password: '${DST_PASSWORD}', insecure: true },
          }),
        };
        const run = await runAction({
          inputs: { ...valid, ...(await c.inputs(ctx)) },
          workspace,
          env: { DST_PASSWORD: dst.password! },
        });
        assert.equal(run.code, 1, run.stdout + run.stderr);
        const errors = annotations(run.stdout, 'error');
        assert.equal(errors.length, 1, run.stdout);
        if (typeof c.message === 'string')
          assert.ok(errors[0]!.startsWith(c.message), `expected "${c.message}", got "${errors[0]}"`);
        else assert.match(errors[0]!, c.message);
        assert.doesNotMatch(run.stdout + run.stderr, /^\s+at /m, 'no stack trace');
        assert.deepEqual(run.outputs, {}, 'no outputs');
        for (const text of [visibleStdout(run.stdout), run.stderr, run.outputText, run.summary]) {
          assert.ok(!text.includes(CANARY) && !text.includes(dst.password!), 'no secret shown');
        }
        assert.deepEqual(
          [...srcProxy.requests, ...dstProxy.requests].map((r) => `${r.method} ${r.path}`),
          [],
          'no request sent',
        );
      } finally {
        await Promise.all([srcProxy.stop(), dstProxy.stop()]);
      }
    });
  }
});
