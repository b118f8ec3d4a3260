// The roots C1's endpoints are checked against when a private CA is configured.
import { rootCertificates } from 'node:tls';

/**
 * Node's bundled root certificates followed by `ca`, as one PEM bundle: both grpc-js and Node's
 * https replace their roots with a `ca` they are given, and grpc-js ignores NODE_EXTRA_CA_CERTS.
 */
export function withBundledRoots(ca: string | Buffer): Buffer {
  return Buffer.from(`${rootCertificates.join('\n')}\n${ca.toString()}`);
}
