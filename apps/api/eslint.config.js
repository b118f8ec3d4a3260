import { createConfig } from '@eks-access/eslint-config';

export default createConfig(import.meta.dirname, {
  allowProcessEnv: ['src/config.ts', 'src/cli.ts', 'src/test-app.ts'],
});
