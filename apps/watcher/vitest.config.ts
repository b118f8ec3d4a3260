import { createVitestConfig } from '@eks-access/vitest-config';

export default createVitestConfig();
