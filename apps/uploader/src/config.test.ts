import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: 'a'.repeat(44) };

describe('loadConfig', () => {
  it('names every variable to fix in one error', () => {
    const err = (() => {
      try {
        loadConfig({ C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token', UPLOAD_MAX_ATTEMPTS: '0' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/ENCRYPTION_KEY/);
    expect(problems).toMatch(/UPLOAD_MAX_ATTEMPTS/);
  });

  it('refuses a plain http token URL unless TLS is turned off explicitly, and reads "false" as false', () => {
    expect(() => loadConfig({ ...base, C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token' })).toThrow(/C1_TLS must be false/);
    const config = loadConfig({ ...base, C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token', C1_TLS: 'false', C1_API_HOST: 'c1-standin:50051' });
    expect(config).toMatchObject({ C1_TLS: false, C1_API_HOST: 'c1-standin:50051', UPLOAD_MAX_ATTEMPTS: 5, UPLOAD_BACKOFF_MS: 10_000 });
    expect(loadConfig(base).C1_TLS).toBe(true);
  });
});
