// Shared flat config: type-aware rules for every package. A package's eslint.config.js calls
// createConfig(import.meta.dirname) so the TypeScript project service finds its tsconfig.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Builds the flat ESLint config for the package rooted at `dir`. */
export function createConfig(dir, { allowProcessEnv = [] } = {}) {
  return tseslint.config(
    { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', '*.config.*', 'bin/**'] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir: dir },
      },
      rules: {
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/switch-exhaustiveness-check': 'error',
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        '@typescript-eslint/require-await': 'off',
        'no-restricted-properties': [
          'error',
          {
            object: 'process',
            property: 'env',
            message: 'Read process.env only in config.ts (or a CLI entry point).',
          },
        ],
      },
    },
    {
      files: ['**/*.test.ts', 'test/**/*.ts', ...allowProcessEnv],
      rules: {
        'no-restricted-properties': 'off',
        '@typescript-eslint/no-unsafe-assignment': 'off',
        '@typescript-eslint/no-unsafe-member-access': 'off',
        '@typescript-eslint/no-non-null-assertion': 'off',
      },
    },
  );
}
