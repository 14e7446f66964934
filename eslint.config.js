import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import specifier with any of these folders as a path segment, at any `../` depth. */
const LAYER = (...folders) => `(^|/)(${folders.join('|')})/`;
/** A bare specifier: a package or a Node built-in (`pg`, `node:crypto`), not a relative path. */
const PACKAGE = '^[^.]';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  // The README's webhook verification snippet: plain JavaScript for receivers to copy, linted
  // as such (no TypeScript project holds it).
  {
    files: ['docs/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { parserOptions: { projectService: false }, globals: { Buffer: 'readonly' } },
  },
  // The four layers, imports pointing one way (docs/architecture.md). Each pattern is a
  // regular expression on the import specifier, so `../x/`, `../../x/` and deeper all match
  // alike: a file moved to another depth keeps its rules.
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: LAYER('application', 'projections', 'infrastructure'), message: 'src/domain imports only src/domain.' },
        { regex: PACKAGE, message: 'src/domain has no I/O and no library: pure TypeScript only.' },
      ] }],
    },
  },
  {
    files: ['src/application/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: LAYER('projections', 'infrastructure'), message: 'src/application imports only src/domain and src/application (its ports included).' },
        { regex: PACKAGE, message: 'Libraries and Node built-ins live in src/infrastructure, behind a port in src/application/ports.' },
      ] }],
    },
  },
  {
    files: ['src/projections/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { regex: LAYER('infrastructure'), message: 'src/projections imports src/domain and src/application (its ports above all), never an adapter.' },
        { regex: PACKAGE, message: 'Libraries and Node built-ins live in src/infrastructure, behind a port in src/application/ports.' },
      ] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
