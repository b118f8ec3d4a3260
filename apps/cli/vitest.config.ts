import { createVitestConfig } from '@eks-access/vitest-config';

// Most tests here run the real `eks-access` executable, several times per test (setup on two
// clusters, then doctor and sync on each: six processes), each starting Node and the AWS SDK. On a
// 2-core machine with two CPU burners beside `pnpm check`, one such test took over 30 s; each
// process keeps its own 120 s limit (doctor.test.ts), so the test limit only has to cover them.
export default createVitestConfig({ test: { testTimeout: 300_000 } });
