// Per-cluster TLS material, shaped like an EKS cluster's: a self-signed cluster CA (the PEM that
// DescribeCluster reports as certificateAuthority.data) and a serving certificate it signs for the
// API endpoint. ECDSA P-256 keeps generation to a few milliseconds, so starting many clusters is
// cheap; clients verify the chain exactly as they would against EKS.
import { randomBytes, type webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import type { ClusterTls } from '../world/types.js';

x509.cryptoProvider.set(globalThis.crypto);

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

/** A positive 128-bit serial number (the top bit cleared so DER keeps it non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await globalThis.crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Names the serving certificate covers: loopback, the in-cluster service names and `hostNames`. */
function subjectAltNames(clusterName: string, hostNames: string[]): x509.JsonGeneralName[] {
  const names = new Set([
    '127.0.0.1',
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    clusterName,
    ...hostNames,
  ]);
  const out: x509.JsonGeneralName[] = [];
  for (const name of names) {
    if (name === '') continue;
    if (isIP(name) !== 0) out.push({ type: 'ip', value: name });
    else if (/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) {
      out.push({ type: 'dns', value: name.toLowerCase() });
    }
  }
  return out;
}

/**
 * Generates a cluster CA (self-signed, CA:true) and a serving certificate it signs, with SANs for
 * 127.0.0.1, localhost and every host name given (IP addresses become IP SANs). Returns PEMs.
 */
export async function createClusterTls(clusterName: string, hostNames: string[]): Promise<ClusterTls> {
  const now = Date.now();
  // Back-date a little so a client whose clock runs behind ours still accepts the certificates.
  const notBefore = new Date(now - 60 * 60 * 1000);
  const [caKeys, serverKeys] = await Promise.all([
    globalThis.crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']),
    globalThis.crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']),
  ]);
  const caName = 'CN=kubernetes';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    notBefore,
    notAfter: new Date(now + 3650 * DAY_MS),
    keys: caKeys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serving = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter: new Date(now + 365 * DAY_MS),
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(subjectAltNames(clusterName, hostNames)),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
    ],
  });
  return {
    caPem: ca.toString('pem'),
    // The chain a server presents is its own certificate; clients anchor on caPem.
    certPem: serving.toString('pem'),
    keyPem: await privateKeyPem(serverKeys.privateKey),
  };
}
