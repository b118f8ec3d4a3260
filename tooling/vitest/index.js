// Shared Vitest settings: resolve workspace packages to their TypeScript sources (the "source"
// export condition) so tests never need a build, keep the AWS SDK from probing EC2 metadata, and
// write a JSON report that tooling/scripts/test-summary.mjs adds up across packages.
import { defineConfig } from 'vitest/config';

/** Returns the Vitest config every package uses, with per-package overrides merged on top. */
export function createVitestConfig(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
    // Vitest forwards ssr.resolve.conditions to Node as --conditions; `import` there would make CJS
    // packages (pg requiring pg-pool) load their dual packages' ESM builds and break.
    ssr: { resolve: { conditions: ['source', 'node', 'default'], externalConditions: ['source'] } },
    ...overrides,
    test: {
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-results.json' },
      env: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      ...overrides.test,
    },
  });
}
