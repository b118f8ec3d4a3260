// Shared Vitest settings: resolve workspace packages to their TypeScript sources (the "source"
// export condition) so tests never need a build, and keep the AWS SDK from probing EC2 metadata.
import { defineConfig } from 'vitest/config';

/** Returns the Vitest config every package uses, with per-package overrides merged on top. */
export function createVitestConfig(overrides = {}) {
  return defineConfig({
    resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'node', 'default'], externalConditions: ['source'] } },
    ...overrides,
    test: {
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      env: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      ...overrides.test,
    },
  });
}
