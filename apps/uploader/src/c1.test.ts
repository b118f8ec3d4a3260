import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHelloInfo } from '@eks-access/c1';
import { startStandInC1, type StandInC1 } from '@eks-access/c1/standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { c1EndpointOf, createClusterC1Client } from './c1.js';
import { loadConfig } from './config.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const base = { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: 'a'.repeat(44), WORKER_ID: 'uploader-tls' };
const helloInfo = defaultHelloInfo({
  packageName: 'eks-access-test',
  packageVersion: '0.0.0',
  displayName: 'EKS',
});

// A C1 endpoint behind a private CA (self-signed here), reached through the uploader's own settings.
describe.skipIf(!hasOpenssl)('C1 behind a private CA', () => {
  let standIn: StandInC1;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'uploader-c1-ca-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'ca.pem'),
      ],
      { stdio: 'ignore' },
    );
    standIn = await startStandInC1({
      publicHost: 'localhost',
      tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) },
    });
    env = { ...base, BATON_C1_API_HOST: standIn.grpcTarget, C1_TOKEN_URL: standIn.tokenUrl };
  });
  afterAll(async () => {
    await standIn?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches C1 over TLS when C1_CA_FILE names the CA', async () => {
    const client = createClusterC1Client(
      c1EndpointOf(loadConfig({ ...env, C1_CA_FILE: join(dir, 'ca.pem') })),
      cluster(standIn),
    );
    try {
      await client.hello(helloInfo);
      expect(standIn.hellos().at(-1)?.hostId).toBe('uploader-tls');
    } finally {
      client.close();
    }
  });

  it('does not trust the endpoint without it', async () => {
    const client = createClusterC1Client(c1EndpointOf(loadConfig(env)), cluster(standIn));
    try {
      await expect(client.hello(helloInfo)).rejects.toMatchObject({ retryable: true });
    } finally {
      client.close();
    }
  });
});

function cluster(standIn: StandInC1) {
  const creds = standIn.registerClient();
  return { c1ClientId: creds.clientId, c1ClientSecret: creds.clientSecret };
}
