import { createVitestConfig } from '@eks-access/vitest-config';

// The files share the machine with a simulator, Postgres and Redis: run them one at a time.
export default createVitestConfig({ test: { fileParallelism: false, testTimeout: 60_000 } });
