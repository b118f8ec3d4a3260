import { createConfig } from '@eks-access/eslint-config';

export default createConfig(import.meta.dirname, { allowProcessEnv: ['src/config.ts'] });
