import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The layer order of docs/architecture.md, checked on the sources themselves. `npm run lint` enforces it too
// (import-x/no-restricted-paths, import-x/no-cycle); this test also counts type-only imports, which the lint's
// cycle rule skips, so a cycle of types cannot creep in either.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** file → the files it imports (relative specifiers, value and type imports, re-exports). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sources('src'), ...sources('constructs')]) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
      relative(root, resolve(root, dirname(file), m[1]!.replace(/\.js$/, '.ts'))),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan), or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** `src/plan/x.ts` → `plan`, `src/errors.ts` → `errors.ts`, `constructs/...` → `constructs`. */
function partOf(file: string): string {
  const [top, part] = file.split('/');
  return top === 'constructs' ? 'constructs' : part!;
}

describe('layers (docs/architecture.md)', () => {
  const graph = importGraph();

  it('no import cycle between files, counting type-only imports', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('every import goes down the layer order; constructs use only the pure parts', async () => {
    const config = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as {
      LAYERS: string[][];
      CONSTRUCTS_MAY_IMPORT: string[];
    };
    const rank = new Map(config.LAYERS.flatMap((layer, i) => layer.map((part) => [part, i] as const)));
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = partOf(file);
      for (const target of targets) {
        const to = partOf(target);
        if (from === to) continue;
        const allowed =
          from === 'constructs'
            ? to === 'constructs' || config.CONSTRUCTS_MAY_IMPORT.includes(to)
            : to !== 'constructs' && rank.has(from) && rank.has(to) && rank.get(to)! < rank.get(from)!;
        if (!allowed) wrong.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('every folder of src/ has a layer', async () => {
    const config = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as { LAYERS: string[][] };
    const known = new Set(config.LAYERS.flat());
    const parts = new Set(sources('src').map(partOf));
    assert.deepEqual(
      [...parts].filter((part) => !known.has(part)),
      [],
    );
  });
});
