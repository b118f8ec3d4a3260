// The baton-eks configuration fields as every CLI of the product takes them: our flag, baton-eks's
// own flag names (so a baton-eks command line works as is), and the BATON_* variable (the SDK maps
// flag `foo-bar` to BATON_FOO_BAR). Flags win over the environment.

/** One configuration field of baton-eks. */
export interface BatonField {
  /** Our flag, without dashes. */
  readonly flag: string;
  /** A one-letter flag, without its dash. */
  readonly short?: string;
  /** Other flag names accepted for it: baton-eks's (and its README's older ones). */
  readonly aliases: readonly string[];
  /** The variable read when no flag is given. */
  readonly env: string;
  /** Older variable names read after `env`. */
  readonly envAliases?: readonly string[];
  readonly description: string;
}

/** The fields that pick the cluster and the AWS identity (keys named as in eks-core's BatonEksConfig). */
export const BATON_FIELDS = {
  clusterName: {
    flag: 'cluster',
    short: 'c',
    aliases: ['eks-cluster-name'],
    env: 'BATON_EKS_CLUSTER_NAME',
    description: 'EKS cluster name',
  },
  region: {
    flag: 'region',
    short: 'r',
    aliases: ['eks-region'],
    env: 'BATON_EKS_REGION',
    description: "the cluster's AWS region",
  },
  roleArn: {
    flag: 'role-arn',
    aliases: ['eks-assume-role-arn'],
    env: 'BATON_ROLE_ARN',
    envAliases: ['BATON_EKS_ASSUME_ROLE_ARN'],
    description: 'IAM role the connector assumes in the cluster account',
  },
  externalId: {
    flag: 'external-id',
    aliases: [],
    env: 'BATON_EXTERNAL_ID',
    description: 'ExternalId for assuming --role-arn',
  },
  accessKeyId: {
    flag: 'access-key',
    aliases: ['eks-access-key'],
    env: 'BATON_EKS_ACCESS_KEY',
    description: 'self-hosted: access key id of the connector user',
  },
  secretAccessKey: {
    flag: 'secret-access-key',
    aliases: ['eks-secret-access-key'],
    env: 'BATON_EKS_SECRET_ACCESS_KEY',
    description: 'self-hosted: its secret access key',
  },
  globalAccessKeyId: {
    flag: 'global-access-key-id',
    aliases: [],
    env: 'BATON_GLOBAL_ACCESS_KEY_ID',
    description: 'cloud-hosted: access key id of the binding account',
  },
  globalSecretAccessKey: {
    flag: 'global-secret-access-key',
    aliases: [],
    env: 'BATON_GLOBAL_SECRET_ACCESS_KEY',
    description: 'cloud-hosted: its secret access key',
  },
  globalRoleArn: {
    flag: 'global-role-arn',
    aliases: [],
    env: 'BATON_GLOBAL_ROLE_ARN',
    description: 'cloud-hosted: binding role assumed before --role-arn',
  },
  globalBindingExternalId: {
    flag: 'global-binding-external-id',
    aliases: [],
    env: 'BATON_GLOBAL_BINDING_EXTERNAL_ID',
    description: 'ExternalId for assuming --global-role-arn',
  },
} as const satisfies Record<string, BatonField>;

/** The baton SDK's ConductorOne service-mode fields. */
export const BATON_C1_FIELDS = {
  c1ClientId: {
    flag: 'client-id',
    aliases: [],
    env: 'BATON_CLIENT_ID',
    description: 'ConductorOne client id (service mode)',
  },
  c1ClientSecret: {
    flag: 'client-secret',
    aliases: [],
    env: 'BATON_CLIENT_SECRET',
    description: 'ConductorOne client secret (service mode)',
  },
} as const satisfies Record<string, BatonField>;
