import type { Linter } from 'eslint';
export declare function createConfig(dir: string, options?: { allowProcessEnv?: string[] }): Linter.Config[];
