// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Imports that would break the layering described in docs/architecture.md. */
const vscodeBan = { name: 'vscode', message: 'Only src/extension may import vscode (see docs/architecture.md).' };
const infraBans = ['ssh2', 'minio', 'execa'].map((name) => ({
  name,
  message: `src/core talks to ${name} only through a port in src/core/ports.ts; implement it in src/adapters.`,
}));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.lab/**', '.vscode-e2e/**', 'test-results/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  { files: ['webview/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['test/**/*.ts', 'test/**/*.mjs'], languageOptions: { globals: { ...globals.mocha } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [vscodeBan, ...infraBans],
        patterns: [{ group: ['**/extension/**', '**/adapters/**', '**/cli/**'], message: 'src/core imports nothing above it.' }],
      }],
    },
  },
  {
    files: ['src/adapters/**/*.ts', 'src/cli/**/*.ts', 'src/shared/**/*.ts', 'lab/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [vscodeBan], patterns: [{ group: ['**/extension/**'], message: 'Only the extension layer imports the extension layer.' }] }],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
