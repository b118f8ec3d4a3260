import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { c1EndpointOf } from './c1.js';
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
    expect(() => loadConfig({ ...base, C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token' })).toThrow(
      /C1_TLS must be false/,
    );
    const config = loadConfig({
      ...base,
      C1_TOKEN_URL: 'http://c1-standin:8089/auth/v1/token',
      C1_TLS: 'false',
      C1_API_HOST: 'c1-standin:50051',
    });
    expect(config).toMatchObject({
      C1_TLS: false,
      C1_API_HOST: 'c1-standin:50051',
      UPLOAD_MAX_ATTEMPTS: 5,
      UPLOAD_BACKOFF_MS: 10_000,
    });
    expect(loadConfig(base).C1_TLS).toBe(true);
  });

  it('takes baton-sdk’s names for the C1 API host and host id, ours winning when both are set', () => {
    const baton = loadConfig({
      ...base,
      BATON_C1_API_HOST: 'acme.conductor.one:8443',
      BATON_HOST_ID: 'eks-connector-1',
      WORKER_ID: 'w1',
    });
    expect(c1EndpointOf(baton)).toEqual({
      hostId: 'eks-connector-1',
      tls: true,
      apiHost: 'acme.conductor.one:8443',
    });
    const both = loadConfig({
      ...base,
      BATON_C1_API_HOST: 'a.example:1',
      C1_API_HOST: 'b.example:2',
      WORKER_ID: 'w1',
    });
    expect(c1EndpointOf(both)).toEqual({ hostId: 'w1', tls: true, apiHost: 'b.example:2' });
    expect(() => loadConfig({ ...base, BATON_C1_API_HOST: 'https://acme.conductor.one' })).toThrow(
      /BATON_C1_API_HOST must be host or host:port/,
    );
  });

  describe('C1_CA_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uploader-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

    it('trusts the CAs in the file for C1’s endpoints', () => {
      const path = join(dir, 'ca.pem');
      writeFileSync(path, pem);
      expect(c1EndpointOf(loadConfig({ ...base, C1_CA_FILE: path })).ca).toBe(pem);
      expect(c1EndpointOf(loadConfig(base)).ca).toBeUndefined();
    });

    it('names the variable when the file cannot be read or holds no certificate', () => {
      expect(() => loadConfig({ ...base, C1_CA_FILE: join(dir, 'missing.pem') })).toThrow(
        /C1_CA_FILE cannot be read \(ENOENT\)/,
      );
      const notPem = join(dir, 'not.pem');
      writeFileSync(notPem, 'hello');
      expect(() => loadConfig({ ...base, C1_CA_FILE: notPem })).toThrow(
        /C1_CA_FILE holds no PEM certificate/,
      );
    });
  });
});
