import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { codeBlocks, headingAnchors, markdownLinks } from '../unit/markdown.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);

interface PackageJson {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, unknown>;
  engines: Record<string, string>;
}
interface LockFile {
  packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; [k: string]: unknown }>;
}

/** A block written as the body of a stack's constructor (it uses `this`), wrapped into one; its imports kept on top. */
function insideStack(block: string): string {
  const lines = block.split('\n');
  const body = lines.findIndex((l) => !l.startsWith('import ') && l.trim() !== '');
  return [
    "import { TerraformStack as ExampleStackBase } from 'cdktf';",
    "import type { Construct as ExampleScope } from 'constructs';",
    ...lines.slice(0, body),
    'export class ExampleStack extends ExampleStackBase {',
    '  constructor(scope: ExampleScope, id: string) {',
    '    super(scope, id);',
    ...lines.slice(body),
    '  }',
    '}',
  ].join('\n');
}

/** What `npm pack` puts in the tarball, as a user installs it (the README, docs and examples it links to included). */
describe('the npm package (npm pack)', { timeout: 5 * 60_000 }, () => {
  let dir: string;
  let tarball: string;
  let files: Set<string>;
  let pkg: PackageJson;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-sync-pack-'));
    pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    // --ignore-scripts: no prepack/prepare of ours runs (there are none); the test packs the built tree as is.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, info!.filename);
    files = new Set(info!.files.map((f) => f.path));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('holds the CLI, the constructs, the engine, the Action, the docs and examples, LICENSE and CHANGELOG; no tests, sources or source maps', () => {
    const required = [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'action.yml',
      'dist/index.js',
      pkg.bin['swr-sync']!,
      'lib/constructs/index.js',
      'lib/constructs/index.d.ts',
      'lib/src/index.js',
      'lib/src/index.d.ts',
      'docs/cli.md',
      'docs/file-formats.md',
      'docs/action.md',
      'docs/constructs.md',
      'docs/guarantees.md',
      'docs/performance.md',
      'examples/main.ts',
      'examples/workflows/deploy.yml',
      'examples/kubernetes/indexed-job.yaml',
    ];
    assert.deepEqual(
      required.filter((f) => !files.has(f)),
      [],
      'missing from the tarball',
    );
    const unwanted = [...files].filter(
      (f) =>
        /^(lib\/test|lib\/bench|lib\/scripts|src|test|bench|scripts|\.ci|examples\/lib|examples\/cdktf\.out)\//.test(
          f,
        ) ||
        f.endsWith('.map') ||
        f.endsWith('.tgz'),
    );
    assert.deepEqual(unwanted, [], 'in the tarball but not for users');
  });

  test('LICENSE is the Apache License 2.0 that package.json names', async () => {
    assert.equal(pkg.license, 'Apache-2.0');
    const text = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004/);
    assert.match(text, /END OF TERMS AND CONDITIONS/);
  });

  test('every relative link of the README and docs resolves inside the tarball (files and #anchors)', async () => {
    const problems: string[] = [];
    const markdown = [...files].filter((f) => f.endsWith('.md'));
    const anchors = new Map<string, Set<string>>();
    const anchorsOf = async (file: string) => {
      let set = anchors.get(file);
      if (!set) anchors.set(file, (set = headingAnchors(await readFile(join(ROOT, file), 'utf8'))));
      return set;
    };
    for (const file of markdown) {
      for (const link of markdownLinks(await readFile(join(ROOT, file), 'utf8'))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path)).replace(/\/$/, '');
        const exists = files.has(target) || [...files].some((f) => f.startsWith(`${target}/`));
        if (!exists) problems.push(`${file}: ${link} (${target} is not in the package)`);
        else if (anchor !== undefined && target.endsWith('.md') && !(await anchorsOf(target)).has(anchor)) {
          problems.push(`${file}: ${link} (no heading "#${anchor}" in ${target})`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  describe('installed into a fresh project, offline', () => {
    let app: string;
    const bin = () => join(app, 'node_modules', '.bin', 'swr-sync');

    before(async () => {
      // The project depends on the tarball and the constructs' peer dependencies, at the versions this repository
      // locks; its lock file reuses this repository's resolved entries, so npm installs from its cache, offline.
      app = join(dir, 'app');
      await mkdir(app);
      const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as LockFile;
      const dependencies: Record<string, string> = { [pkg.name]: `file:../${posix.basename(tarball)}` };
      // The peers a cdktf app has (cdktn, the alternative to cdktf, stays out).
      for (const peer of ['cdktf', 'constructs', '@cdktf/provider-kubernetes'])
        dependencies[peer] = lock.packages[`node_modules/${peer}`]!.version!;
      const manifest = { name: 'fresh-app', version: '1.0.0', private: true, type: 'module', dependencies };
      const packages: LockFile['packages'] = { '': { name: manifest.name, version: manifest.version, dependencies } };
      for (const [key, entry] of Object.entries(lock.packages)) {
        if (key === '' || !key.startsWith('node_modules/')) continue;
        const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
        packages[key] = rest;
      }
      const integrity = `sha512-${createHash('sha512')
        .update(await readFile(tarball))
        .digest('base64')}`;
      packages[`node_modules/${pkg.name}`] = {
        version: pkg.version,
        resolved: `file:../${posix.basename(tarball)}`,
        integrity,
        license: pkg.license,
        bin: pkg.bin,
        engines: pkg.engines,
        dependencies: pkg.dependencies,
        peerDependencies: pkg.peerDependencies,
        peerDependenciesMeta: pkg.peerDependenciesMeta,
      };
      await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
      await writeFile(
        join(app, 'package-lock.json'),
        JSON.stringify(
          { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages },
          null,
          2,
        ),
      );
      await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: app,
        maxBuffer: 16 * 1024 * 1024,
      });
    });

    test('the swr-sync bin runs: --version, and --help of every command', async () => {
      const { stdout } = await run(bin(), ['--version'], { cwd: app });
      assert.equal(stdout.trim(), pkg.version);
      for (const command of ['sync', 'plan', 'copy', 'lock', 'login-key', 'config', 'pull-secret']) {
        const help = await run(bin(), [command, '--help'], { cwd: app });
        assert.match(help.stdout, new RegExp(`Usage: swr-sync ${command}`));
      }
    });

    test("the README's and docs' TypeScript examples type-check against the installed package; the README's app synthesizes", async () => {
      const sources: string[] = [];
      const checked = ['README.md', ...[...files].filter((f) => f.startsWith('docs/') && f.endsWith('.md'))];
      for (const file of checked) {
        // Complete programs start with their imports; fragments (inside a stack) are checked where they live.
        const blocks = codeBlocks(await readFile(join(ROOT, file), 'utf8'), 'ts');
        for (const [i, block] of blocks.entries()) {
          if (!block.startsWith('import ')) continue;
          const name = `${file.replace(/[/.]/g, '-')}-${i}.ts`;
          sources.push(name);
          await writeFile(join(app, name), /\bthis\b/.test(block) ? insideStack(block) : block);
        }
      }
      assert.ok(
        sources.includes('README-md-0.ts'),
        `the README's constructs example is a complete program (${sources.join(', ')})`,
      );
      await writeFile(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            types: [],
            outDir: 'out',
            rootDir: '.',
          },
          files: sources,
        }),
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const check = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch(
        (e: { stdout: string; stderr: string }) => e,
      );
      assert.equal('code' in check ? (check as { code: number }).code : 0, 0, `tsc:\n${check.stdout}${check.stderr}`);
      await run(process.execPath, [join('out', 'README-md-0.js')], {
        cwd: app,
        env: { ...process.env, CDKTF_OUTDIR: join(app, 'cdktf.out') },
      });
      const spec = JSON.parse(await readFile(join(app, 'cdktf.out', 'stacks', 'shop', 'swr-mirror.json'), 'utf8')) as {
        images: Array<{ source: string }>;
      };
      assert.deepEqual(
        spec.images.map((i) => i.source),
        ['docker.io/library/nginx'],
      );
    });

    test('ESM only: the constructs and the engine import from an ES module, and from CommonJS with import()', async () => {
      const esm = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const c = await import('cdktf-swr'); const e = await import('cdktf-swr/engine'); console.log(typeof c.SwrOrganization, typeof c.MirroredImage, typeof e.CopyEngine, typeof e.parseReference)",
        ],
        { cwd: app },
      );
      assert.equal(esm.stdout.trim(), 'function function function function');
      const cjs = await run(
        process.execPath,
        ['--input-type=commonjs', '-e', "import('cdktf-swr').then((c) => console.log(typeof c.Workload))"],
        { cwd: app },
      );
      assert.equal(cjs.stdout.trim(), 'function');
    });

    test('the Action runs from node_modules/cdktf-swr (uses: ./node_modules/cdktf-swr): a bad input fails the step naming it', async () => {
      const actionDir = join(app, 'node_modules', pkg.name);
      const yml = parseYaml(await readFile(join(actionDir, 'action.yml'), 'utf8')) as {
        runs: { using: string; main: string };
      };
      assert.equal(yml.runs.using, 'node24');
      assert.ok(existsSync(join(actionDir, yml.runs.main)), `${yml.runs.main} is in the package`);
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        HOME: app,
        RUNNER_TEMP: app,
        GITHUB_WORKSPACE: app,
        INPUT_IMAGES: '{}',
        INPUT_WORKERS: 'x',
      };
      const result = await run(process.execPath, [join(actionDir, yml.runs.main)], { cwd: app, env }).catch(
        (e: { code: number; stdout: string }) => e,
      );
      assert.equal((result as { code?: number }).code, 1);
      assert.match(result.stdout, /::error::.*input "workers"/);
    });
  });
});
