// A registered cluster's stored secrets (as the db package keeps them) → a credential chain, for
// the three hosting modes: static keys → role (self-hosted); global keys or the default chain →
// binding role → role (cloud-hosted); default chain → role. Structural input: eks-core does not
// depend on the db package.
import type { CredentialsConfig } from './credentials.js';

interface StoredKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface StoredClusterSecrets {
  roleArn: string | null;
  externalId?: string;
  credentials?: {
    static?: StoredKeys;
    global?: StoredKeys;
    bindingRole?: { roleArn: string; externalId?: string };
  };
}

/** Builds the credential chain for a cluster from its decrypted secrets. */
export function credentialsFromStoredSecrets(secrets: StoredClusterSecrets): CredentialsConfig {
  const target = secrets.roleArn
    ? [{ roleArn: secrets.roleArn, ...(secrets.externalId ? { externalId: secrets.externalId } : {}) }]
    : [];
  const creds = secrets.credentials ?? {};
  if (creds.static) return { base: { kind: 'static', ...creds.static }, assume: target };
  const binding = creds.bindingRole
    ? [
        {
          roleArn: creds.bindingRole.roleArn,
          ...(creds.bindingRole.externalId ? { externalId: creds.bindingRole.externalId } : {}),
        },
      ]
    : [];
  return {
    base: creds.global ? { kind: 'static', ...creds.global } : { kind: 'default-chain' },
    assume: [...binding, ...target],
  };
}
