import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { envReference } from '@eks-access/runtime';
import { configSchema as syncWorker } from '@eks-access/sync-worker/config';
import { describe, expect, it } from 'vitest';
import { renderConfigReference, withReference } from './reference.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

describe('configuration reference', () => {
  it('in README.md is what the env schemas say (run pnpm config:reference after changing a schema)', () => {
    expect(withReference(readme, renderConfigReference())).toBe(readme);
  });

  it('lists each variable with its default and meaning, and marks the required ones', () => {
    const vars = envReference(syncWorker);
    expect(vars.find((v) => v.name === 'DATABASE_URL')).toMatchObject({ required: true, default: undefined });
    expect(vars.find((v) => v.name === 'HEALTH_PORT')).toMatchObject({ required: false, default: '`9464`' });
    expect(vars.find((v) => v.name === 'WORKER_ID')?.default).toBe('`<hostname>-<pid>`');
    for (const v of vars) expect(v.description.length, v.name).toBeGreaterThan(10);
  });
});
