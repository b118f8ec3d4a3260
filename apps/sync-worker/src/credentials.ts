// A registered cluster's stored secrets → eks-core's credential chain, following the hosting mode
// the cluster was registered with (the same three flows as the CLI and baton-eks).
import type { ClusterSecrets } from '@eks-access/db';
import type { CredentialsConfig } from '@eks-access/eks-core';

/** Builds the credential chain for a cluster from its decrypted secrets. */
export function credentialsFor(secrets: ClusterSecrets): CredentialsConfig {
  const target = secrets.roleArn ? [{ roleArn: secrets.roleArn, ...(secrets.externalId ? { externalId: secrets.externalId } : {}) }] : [];
  const creds = secrets.credentials ?? {};
  if (creds.static) return { base: { kind: 'static', ...creds.static }, assume: target };
  const binding = creds.bindingRole ? [{ roleArn: creds.bindingRole.roleArn, ...(creds.bindingRole.externalId ? { externalId: creds.bindingRole.externalId } : {}) }] : [];
  return { base: creds.global ? { kind: 'static', ...creds.global } : { kind: 'default-chain' }, assume: [...binding, ...target] };
}
