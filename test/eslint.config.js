import { createConfig } from '@eks-access/eslint-config';

// This whole package is tests: it configures the processes it starts through their environment.
export default createConfig(import.meta.dirname, {
  allowProcessEnv: ['e2e/**', 'deploy/**', 'bench/**', 'reliability/**'],
});
