import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // The house plan's layering: the domain imports nothing but itself.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../application/*', '../../application/*', '../infrastructure/*', '../../infrastructure/*', '../projections/*', '../../projections/*'], message: 'src/domain imports only src/domain.' },
        { group: ['pg', 'express', 'mongodb', 'socket.io', 'stripe', 'inversify', 'zod', 'node:*'], message: 'src/domain has no I/O and no framework.' },
      ] }],
    },
  },
  {
    files: ['src/application/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../infrastructure/*', '../../infrastructure/*', '../projections/*', '../../projections/*'], message: 'src/application imports only domain and itself.' },
        { group: ['pg', 'express', 'mongodb', 'socket.io', 'stripe', 'inversify', '@eventstore/*'], message: 'Libraries live in src/infrastructure.' },
      ] }],
    },
  },
  {
    files: ['src/projections/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../infrastructure/*', '../../infrastructure/*'], message: 'src/projections imports domain and application ports only.' },
        { group: ['pg', 'express', 'mongodb', 'socket.io', 'stripe', 'inversify', '@eventstore/*'], message: 'Libraries live in src/infrastructure.' },
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
