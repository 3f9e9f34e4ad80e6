// ESLint flat config: typescript-eslint's recommended rules at zero warnings, and the layer rule of
// docs/architecture.md — every import goes down the layer order, and no file imports itself back through a cycle.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers of `src/`, lowest first (docs/architecture.md). A module may import its own layer and the layers before
 * it, never one after it. `cli` and `action` are two front ends on the same level and do not import each other.
 */
export const LAYERS = [
  ['errors.ts', 'defaults.ts', 'util'],
  ['oci'],
  ['config'],
  ['kubernetes'],
  ['swr'],
  ['client'],
  ['store'],
  ['plan'],
  ['engine'],
  ['results'],
  ['job'],
  ['cli', 'action'],
  ['index.ts'],
];

/** What the constructs may use of `src/`: the pure parts (references, rule files, lock file, Kubernetes names). */
export const CONSTRUCTS_MAY_IMPORT = ['errors.ts', 'defaults.ts', 'util', 'oci', 'config', 'kubernetes', 'swr', 'plan'];

const at = (part) => `./src/${part}`;

function layerZones() {
  const zones = [];
  LAYERS.forEach((layer, rank) => {
    const above = LAYERS.slice(rank + 1).flat();
    for (const part of layer) {
      const siblings = layer.filter((other) => other !== part && !other.endsWith('.ts') && !part.endsWith('.ts'));
      const from = [...above, ...siblings];
      if (from.length === 0) continue;
      zones.push({
        target: at(part),
        from: from.map(at),
        message: `src/${part} is below ${from.length === 1 ? `src/${from[0]}` : 'these layers'}: imports go down the layer order (docs/architecture.md)`,
      });
    }
  });
  const all = LAYERS.flat();
  zones.push({
    target: './constructs',
    from: all.filter((part) => !CONSTRUCTS_MAY_IMPORT.includes(part)).map(at),
    message: 'constructs use only the pure parts of src/ (docs/architecture.md)',
  });
  zones.push({
    target: './src',
    from: './constructs',
    message: 'src/ does not depend on the constructs (docs/architecture.md)',
  });
  return zones;
}

export default tseslint.config(
  {
    ignores: ['lib/**', 'dist/**', 'examples/lib/**', 'examples/cdktf.out/**', 'node_modules/**', '.tmp/**', '.ci/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { maxDepth: Infinity }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // A variable a closure reads before its one assignment (a proxy's fault hook set once the proxy runs).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
