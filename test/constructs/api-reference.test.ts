/**
 * docs/api is generated from the TSDoc (TypeDoc + typedoc-plugin-markdown, constructs/typedoc.json): this regenerates
 * it into a temporary directory and fails on any difference, on any TypeDoc warning (an undocumented export, a broken
 * link), and on an optional prop without `@default`. `npm run docs:api` rewrites docs/api.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CHECKED_IN = join(root, 'docs', 'api');

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

interface Reflection {
  name: string;
  kind: number;
  flags?: { isOptional?: boolean };
  comment?: { blockTags?: { tag: string }[] };
  children?: Reflection[];
  type?: { type?: string; declaration?: Reflection; types?: { declaration?: Reflection }[] };
}

// TypeDoc's ReflectionKind values.
const PROPERTY = 1024;
const INTERFACE = 256;
const TYPE_LITERAL = 65536;

/** Optional properties of interfaces and object types without a `@default` tag. */
function missingDefaults(node: Reflection, parent?: Reflection, path = ''): string[] {
  const here = path ? `${path}.${node.name}` : node.name;
  const out: string[] = [];
  if (
    node.kind === PROPERTY &&
    node.flags?.isOptional &&
    (parent?.kind === INTERFACE || parent?.kind === TYPE_LITERAL)
  ) {
    if (!(node.comment?.blockTags ?? []).some((t) => t.tag === '@default')) out.push(here);
  }
  for (const child of node.children ?? []) out.push(...missingDefaults(child, node, here));
  if (node.type?.declaration) out.push(...missingDefaults(node.type.declaration, node, here));
  for (const t of node.type?.types ?? []) if (t.declaration) out.push(...missingDefaults(t.declaration, node, here));
  return out;
}

describe('API reference', () => {
  const out = mkdtempSync(join(tmpdir(), 'swr-api-'));
  let generated: { status: number | null; output: string } | undefined;
  const generate = () => {
    if (generated) return generated;
    // bin/ is not in the package's exports: locate it from package.json, which is.
    const typedoc = join(dirname(createRequire(import.meta.url).resolve('typedoc/package.json')), 'bin', 'typedoc');
    const run = spawnSync(
      process.execPath,
      [
        typedoc,
        '--options',
        join(root, 'constructs', 'typedoc.json'),
        '--out',
        join(out, 'md'),
        '--json',
        join(out, 'api.json'),
        '--treatWarningsAsErrors',
      ],
      { cwd: root, encoding: 'utf8', timeout: 180_000 },
    );
    generated = { status: run.status, output: `${run.stdout}${run.stderr}` };
    return generated;
  };

  it('generates without warnings: every export documented, every link resolved', () => {
    const run = generate();
    assert.equal(run.status, 0, run.output);
  });

  it('is current: docs/api equals what the TSDoc generates (npm run docs:api)', () => {
    assert.equal(generate().status, 0);
    const want = files(join(out, 'md'));
    const have = files(CHECKED_IN);
    assert.deepEqual(
      [...have.keys()].sort(),
      [...want.keys()].sort(),
      'docs/api has other files than generated; run npm run docs:api',
    );
    for (const [name, text] of want)
      assert.equal(have.get(name), text, `docs/api/${name} is stale; run npm run docs:api`);
  });

  it('documents a @default for every optional prop', () => {
    assert.equal(generate().status, 0);
    const project = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as Reflection;
    assert.deepEqual(missingDefaults(project), []);
  });
});
