import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClusterTls } from './tls.js';

describe('createClusterTls', () => {
  it('issues a CA and a serving certificate it signs, valid for loopback and the given host names', async () => {
    const tls = await createClusterTls('prod', ['sim.internal', '10.1.2.3']);
    const ca = new X509Certificate(tls.caPem);
    const cert = new X509Certificate(tls.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('sim.internal')).toBe('sim.internal');
    expect(cert.checkHost('elsewhere.example')).toBeUndefined();
    expect(tls.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('gives every cluster its own CA', async () => {
    const [a, b] = await Promise.all([createClusterTls('a', []), createClusterTls('b', [])]);
    expect(new X509Certificate(a.certPem).checkIssued(new X509Certificate(b.caPem))).toBe(false);
  });
});
