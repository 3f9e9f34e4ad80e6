import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The public API of both package entries, pinned: every exported name with its kind, compared with the checked-in
// test/unit/api-surface.json, so a change to what users can import shows in review. After a deliberate change:
//   UPDATE_API_SURFACE=1 node --test lib/test/unit/api-surface.test.js
// Also checks that every export carries TSDoc. Reads the declaration files the build emits (lib/…/index.d.ts).
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SURFACE_FILE = join(ROOT, 'test/unit/api-surface.json');
const ENTRIES = { 'cdktf-swr': 'lib/constructs/index.d.ts', 'cdktf-swr/engine': 'lib/src/index.d.ts' } as const;

interface Export {
  readonly name: string;
  readonly kind: string;
  readonly documented: boolean;
}

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return 'namespace';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Variable) return 'const';
  return 'other';
}

function exportsOf(files: readonly string[]): Map<string, Export[]> {
  const program = ts.createProgram(files, {
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, Export[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is built (npm run build)`);
    const module = checker.getSymbolAtLocation(source);
    assert.ok(module, `${file} is a module`);
    result.set(
      file,
      checker
        .getExportsOfModule(module)
        .map((symbol) => {
          const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
          // `export * as ns from …` carries its TSDoc on the export statement, not on the module it names.
          const statement = symbol.declarations?.[0]?.parent;
          const documented =
            target.getDocumentationComment(checker).length > 0 ||
            target.getJsDocTags(checker).length > 0 ||
            (statement !== undefined &&
              ts.isExportDeclaration(statement) &&
              ts.getJSDocCommentsAndTags(statement).length > 0);
          return { name: symbol.getName(), kind: kindOf(target), documented };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
  }
  return result;
}

describe('public API (test/unit/api-surface.json)', () => {
  const found = exportsOf(Object.values(ENTRIES).map((file) => join(ROOT, file)));
  const surface = Object.fromEntries(
    Object.entries(ENTRIES).map(([entry, file]) => [
      entry,
      found.get(join(ROOT, file))!.map((e) => `${e.kind} ${e.name}`),
    ]),
  );

  it('each package entry exports exactly the pinned names and kinds', async () => {
    const text = `${JSON.stringify(surface, null, 2)}\n`;
    if (process.env.UPDATE_API_SURFACE) await writeFile(SURFACE_FILE, text);
    const pinned = JSON.parse(await readFile(SURFACE_FILE, 'utf8')) as Record<string, string[]>;
    assert.deepEqual(
      surface,
      pinned,
      'the public API changed: if on purpose, rerun with UPDATE_API_SURFACE=1 and commit test/unit/api-surface.json',
    );
  });

  it('every export has TSDoc', () => {
    const undocumented = Object.entries(ENTRIES).flatMap(([entry, file]) =>
      found
        .get(join(ROOT, file))!
        .filter((e) => !e.documented)
        .map((e) => `${entry}: ${e.kind} ${e.name}`),
    );
    assert.deepEqual(undocumented, []);
  });
});
