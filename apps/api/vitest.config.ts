import { createVitestConfig } from '@eks-access/vitest-config';

// The CLI tests here run the real executable, often several times per test; under two CPU burners
// beside `pnpm check` some took 20-25 s of the default 30 s. A limit only has to catch a hang.
export default createVitestConfig({ test: { testTimeout: 120_000 } });
