// The built-in `demo` world: three clusters over two accounts and two regions, one per
// authentication mode, set up the way the C1 EKS setup guide tells users to (a connector IAM user,
// an EksAccessConnector role per account, one of them behind an ExternalId; the connector mapped
// read-only in every cluster), plus the people, SSO roles and RBAC a real platform team has.
// It is written as a world document and built by the same loader as world files.
//
// Other tests hand-check expectations against the tables below: keep them in step with the code.
//
// ACCOUNTS   111111111111 (acme-main), 222222222222 (acme-legacy)
//
// ACCESS KEYS (long-lived; the ready line lists them in this order)
//   AKIAEKSSIMCONNECTOR1  111 user/eks-access-connector
//   AKIAEKSSIMALICE00001  111 user/people/alice
//   AKIAEKSSIMLEGACYADM1  222 user/legacy-admin
//   (111 user/people/bob has no key)
//
// IAM ROLES and their trust policies
//   111 role/EksAccessConnector                         ← 111 user/eks-access-connector
//   111 role/PlatformDeployer                           ← 111 user/people/alice
//   111 role/BreakGlassAdmin                            ← account root 111111111111
//   111 role/EksNodeRole                                ← service ec2.amazonaws.com
//   111 role/aws-reserved/sso.amazonaws.com/eu-west-1/
//         AWSReservedSSO_AdministratorAccess_3f2a9c1b7e5d4a60   ← SAML saml-provider/AWSSSO_5d2c8e1f9a3b7c40_DO_NOT_DELETE
//         AWSReservedSSO_Developer_8b1e6d2f0a9c3e47             ← same SAML provider
//         AWSReservedSSO_ReadOnly_c4d7e9a1b3f50628              ← same SAML provider
//   222 role/EksAccessConnector                         ← 111 user/eks-access-connector, only with
//                                                          sts:ExternalId = c1-demo-external-id-7f3a9b
//   222 role/ci/LegacyDeployer                          ← account root 222222222222
//   222 role/EksNodeRole                                ← service ec2.amazonaws.com
//   222 role/aws-reserved/sso.amazonaws.com/eu-west-1/
//         AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d   ← SAML saml-provider/AWSSSO_0a7e3c9d1b5f2e86_DO_NOT_DELETE
//
// CLUSTERS
//   prod-eu     111111111111  eu-west-1  API                 1.31
//   staging-us  111111111111  us-east-1  API_AND_CONFIG_MAP  1.30
//   legacy-us   222222222222  us-east-1  CONFIG_MAP          1.29
//
// WHO REACHES WHAT (AE = access entry; SSO x = the AWSReservedSSO_x role of that account)
// cluster     principal                 via                                   effective access
// ----------  ------------------------  ------------------------------------  --------------------------------------------
// prod-eu     role/EksAccessConnector   AE, default username                  AmazonEKSAdminViewPolicy, cluster
//             SSO AdministratorAccess   AE                                    AmazonEKSClusterAdminPolicy, cluster
//             SSO Developer             AE                                    AmazonEKSEditPolicy in team-a, team-b
//             SSO ReadOnly              AE                                    AmazonEKSViewPolicy, cluster
//             role/PlatformDeployer     AE user platform-deployer,            Role deployer in team-a and team-b
//                                       groups [platform-deployers]           (RoleBindings team-a/deployer, team-b/deployer)
//             user/people/alice         AE, username = her user ARN           AmazonEKSViewPolicy in monitoring; ClusterRole
//                                                                             edit in team-b (RoleBinding team-b/alice-edit)
//             role/BreakGlassAdmin      aws-auth system:masters — IGNORED     nothing (API mode does not read aws-auth)
//             everyone else             —                                     nothing
//             SAs: monitoring/prometheus → ClusterRole monitoring-reader (ClusterRoleBinding monitoring-reader);
//                  team-a/ci-deployer → Role team-a/deployer; team-a/app → ClusterRole view in monitoring
//                  (RoleBinding monitoring/team-a-app-view)
// staging-us  role/EksAccessConnector   AE, default username                  AmazonEKSAdminViewPolicy, cluster
//             SSO AdministratorAccess   AE                                    AmazonEKSClusterAdminPolicy, cluster
//             SSO Developer             AE                                    AmazonEKSEditPolicy in team-a
//             role/BreakGlassAdmin      aws-auth break-glass:{{SessionName}}  cluster-admin (ClusterRoleBinding cluster-admin)
//                                       [system:masters]
//             role/PlatformDeployer     aws-auth platform-deployer:           Role deployer in team-a and team-b
//                                       {{SessionName}} [platform-deployers]
//             role/EksNodeRole          aws-auth system:node:{{EC2PrivateDNSName}} [system:bootstrappers, system:nodes]; no RBAC
//             user/people/alice         aws-auth mapUsers alice               cluster-admin
//                                       [system:masters]
//             user/people/bob           aws-auth mapUsers bob                 ClusterRole view in team-b
//                                       [team-b-viewers]                      (RoleBinding team-b/team-b-viewers)
//             everyone else (incl. SSO ReadOnly)                              nothing
//             SAs: monitoring/prometheus → ClusterRole monitoring-reader (ClusterRoleBinding monitoring-reader)
// legacy-us   222 role/EksAccessConnector  aws-auth eks-access-connector      ClusterRole read-only-access
//             (assumed with ExternalId)    [readers]                          (ClusterRoleBinding reader-role-binding)
//             222 SSO AdministratorAccess  aws-auth, ARN without its path,    cluster-admin
//                                          admin:{{SessionName}} [system:masters]
//             222 role/ci/LegacyDeployer   aws-auth, ARN without its path,    Role legacy-apps/deployer
//                                          legacy-deployer:{{SessionName}} [legacy-deployers]
//             222 user/legacy-admin        aws-auth mapUsers legacy-admin     cluster-admin
//                                          [system:masters]
//             222 role/EksNodeRole         aws-auth nodes mapping; no RBAC
//             everyone else (incl. every 111 principal)                       nothing
//             SAs: legacy-apps/ci → ClusterRole edit in team-a (RoleBinding team-a/ci-edit)
//
// KUBERNETES OBJECTS
//   prod-eu, staging-us  namespaces default, kube-system, team-a, team-b, monitoring
//                        ClusterRoles cluster-admin, admin, edit, view, monitoring-reader
//                        Roles team-a/deployer, team-b/deployer; ConfigMap team-a/app-config
//                        ConfigMap kube-system/aws-auth (prod-eu: a leftover, ignored)
//   prod-eu              ServiceAccounts team-a/app, team-a/ci-deployer, team-b/app, monitoring/prometheus
//   staging-us           ServiceAccounts team-a/app, team-b/app, monitoring/prometheus
//   legacy-us            namespaces default, kube-system, team-a, legacy-apps
//                        ClusterRoles cluster-admin, admin, edit, view, read-only-access
//                        Role legacy-apps/deployer; ServiceAccount legacy-apps/ci; ConfigMap kube-system/aws-auth
//   Every cluster: ClusterRoleBinding cluster-admin → Group system:masters.
import { roleArnWithoutPath } from './aws-auth.js';
import {
  BOOTSTRAP_LABELS,
  CONNECTOR_READERS_GROUP,
  CONNECTOR_READ_CLUSTER_ROLE,
  CONNECTOR_READ_RULES,
  STANDARD_CLUSTER_ROLES,
  type PolicyRule,
} from './defaults.js';
import { buildWorld } from './load.js';
import type { WorldDocumentInput } from './schema.js';
import type { World } from './world.js';

const MAIN = '111111111111';
/** Name of the connector roles' inline policy holding the sync's permissions. */
export const CONNECTOR_SYNC_POLICY = 'EksAccessConnectorSync';
export const CONNECTOR_PROVISION_POLICY = 'EksAccessConnectorProvision';
const LEGACY = '222222222222';
const SSO_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';

/** Fixed identifiers of the demo world, for tests and docs. */
export const DEMO = {
  accounts: { main: MAIN, legacy: LEGACY },
  connector: {
    userArn: `arn:aws:iam::${MAIN}:user/eks-access-connector`,
    accessKeyId: 'AKIAEKSSIMCONNECTOR1',
    secretAccessKey: 'eksSimConnectorSecretKeyDoNotUse/0000001',
    roleArn: `arn:aws:iam::${MAIN}:role/EksAccessConnector`,
    legacyRoleArn: `arn:aws:iam::${LEGACY}:role/EksAccessConnector`,
    /** Required by the legacy account's EksAccessConnector trust policy. */
    externalId: 'c1-demo-external-id-7f3a9b',
  },
  alice: {
    userArn: `arn:aws:iam::${MAIN}:user/people/alice`,
    accessKeyId: 'AKIAEKSSIMALICE00001',
    secretAccessKey: 'eksSimAliceSecretKeyDoNotUseInAws/000001',
  },
  bob: { userArn: `arn:aws:iam::${MAIN}:user/people/bob` },
  legacyAdmin: {
    userArn: `arn:aws:iam::${LEGACY}:user/legacy-admin`,
    accessKeyId: 'AKIAEKSSIMLEGACYADM1',
    secretAccessKey: 'eksSimLegacyAdminSecretDoNotUseInAws/001',
  },
  roles: {
    platformDeployer: `arn:aws:iam::${MAIN}:role/PlatformDeployer`,
    breakGlassAdmin: `arn:aws:iam::${MAIN}:role/BreakGlassAdmin`,
    nodeRole: `arn:aws:iam::${MAIN}:role/EksNodeRole`,
    ssoAdmin: `arn:aws:iam::${MAIN}:role${SSO_PATH}AWSReservedSSO_AdministratorAccess_3f2a9c1b7e5d4a60`,
    ssoDeveloper: `arn:aws:iam::${MAIN}:role${SSO_PATH}AWSReservedSSO_Developer_8b1e6d2f0a9c3e47`,
    ssoReadOnly: `arn:aws:iam::${MAIN}:role${SSO_PATH}AWSReservedSSO_ReadOnly_c4d7e9a1b3f50628`,
    legacyDeployer: `arn:aws:iam::${LEGACY}:role/ci/LegacyDeployer`,
    legacyNodeRole: `arn:aws:iam::${LEGACY}:role/EksNodeRole`,
    legacySsoAdmin: `arn:aws:iam::${LEGACY}:role${SSO_PATH}AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d`,
  },
  clusters: {
    prodEu: { name: 'prod-eu', accountId: MAIN, region: 'eu-west-1', authenticationMode: 'API' },
    stagingUs: {
      name: 'staging-us',
      accountId: MAIN,
      region: 'us-east-1',
      authenticationMode: 'API_AND_CONFIG_MAP',
    },
    legacyUs: { name: 'legacy-us', accountId: LEGACY, region: 'us-east-1', authenticationMode: 'CONFIG_MAP' },
  },
} as const;

const samlTrust = (account: string, provider: string) => ({
  Version: '2012-10-17' as const,
  Statement: [
    {
      Effect: 'Allow' as const,
      Principal: { Federated: `arn:aws:iam::${account}:saml-provider/${provider}` },
      Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
      Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
    },
  ],
});
const awsTrust = (principal: string, condition?: Record<string, Record<string, string>>) => ({
  Version: '2012-10-17' as const,
  Statement: [
    {
      Effect: 'Allow' as const,
      Principal: { AWS: principal },
      Action: 'sts:AssumeRole',
      ...(condition ? { Condition: condition } : {}),
    },
  ],
});
const serviceTrust = (service: string) => ({
  Version: '2012-10-17' as const,
  Statement: [{ Effect: 'Allow' as const, Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

const clusterRole = (name: string, rules: PolicyRule[], labels?: Record<string, string>) => ({
  name,
  rules,
  ...(labels ? { labels } : {}),
});
const standardClusterRoles = () =>
  Object.entries(STANDARD_CLUSTER_ROLES).map(([name, rules]) => clusterRole(name, rules, BOOTSTRAP_LABELS));
const MONITORING_READER: PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['pods', 'nodes', 'services', 'endpoints', 'namespaces'],
    verbs: ['get', 'list', 'watch'],
  },
  { nonResourceURLs: ['/metrics'], verbs: ['get'] },
];
const DEPLOYER: PolicyRule[] = [
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'replicasets'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  {
    apiGroups: [''],
    resources: ['services', 'configmaps'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
];
const group = (name: string) => ({ kind: 'Group' as const, name });
const sa = (namespace: string, name: string) => ({ kind: 'ServiceAccount' as const, namespace, name });
const user = (name: string) => ({ kind: 'User' as const, name });
const ref = (kind: 'ClusterRole' | 'Role', name: string) => ({ kind, name });
const clusterAdminBinding = {
  name: 'cluster-admin',
  labels: BOOTSTRAP_LABELS,
  roleRef: ref('ClusterRole', 'cluster-admin'),
  subjects: [group('system:masters')],
};
const nodeMapping = (account: string) => ({
  rolearn: `arn:aws:iam::${account}:role/EksNodeRole`,
  username: 'system:node:{{EC2PrivateDNSName}}',
  groups: ['system:bootstrappers', 'system:nodes'],
});
const teamNamespaces = [
  'default',
  'kube-system',
  { name: 'team-a', labels: { team: 'a' } },
  { name: 'team-b', labels: { team: 'b' } },
  'monitoring',
];

/**
 * What the connector's role needs to sync a cluster of `account`, and nothing more: the EKS reads
 * on the account's clusters and access entries, the access-policy catalogue, and IAM ListRoles.
 */
export function connectorSyncPolicy(account: string) {
  return {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Sid: 'EksReadClusters',
        Effect: 'Allow' as const,
        Action: [
          'eks:DescribeCluster',
          'eks:ListAccessEntries',
          'eks:DescribeAccessEntry',
          'eks:ListAssociatedAccessPolicies',
        ],
        Resource: [`arn:aws:eks:*:${account}:cluster/*`, `arn:aws:eks:*:${account}:access-entry/*`],
      },
      {
        Sid: 'EksListAccessPolicies',
        Effect: 'Allow' as const,
        Action: 'eks:ListAccessPolicies',
        Resource: '*',
      },
      { Sid: 'IamListRoles', Effect: 'Allow' as const, Action: 'iam:ListRoles', Resource: '*' },
    ],
  };
}

/** What the connector's role needs on top of connectorSyncPolicy to provision (access entries, policies). */
export function connectorProvisionPolicy(account: string) {
  return {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Sid: 'EksWriteAccessEntries',
        Effect: 'Allow' as const,
        Action: [
          'eks:CreateAccessEntry',
          'eks:UpdateAccessEntry',
          'eks:AssociateAccessPolicy',
          'eks:DisassociateAccessPolicy',
        ],
        Resource: [`arn:aws:eks:*:${account}:cluster/*`, `arn:aws:eks:*:${account}:access-entry/*`],
      },
      {
        Sid: 'IamReadPrincipals',
        Effect: 'Allow' as const,
        Action: ['iam:GetRole', 'iam:GetUser'],
        Resource: [`arn:aws:iam::${account}:role/*`, `arn:aws:iam::${account}:user/*`],
      },
    ],
  };
}

/** The demo world as a world document (what createDemoWorld builds). */
export function createDemoDocument(): WorldDocumentInput {
  return {
    accounts: [
      { id: MAIN, alias: 'acme-main' },
      { id: LEGACY, alias: 'acme-legacy' },
    ],
    iamUsers: [
      {
        accountId: MAIN,
        userName: 'eks-access-connector',
        tags: { purpose: 'eks-access-connector' },
        accessKeys: [
          { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
        ],
        // The user only assumes the connector roles; the roles hold the permissions.
        inlinePolicies: [
          {
            policyName: 'AssumeEksAccessConnectorRoles',
            policyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'sts:AssumeRole',
                  Resource: 'arn:aws:iam::*:role/EksAccessConnector',
                },
              ],
            },
          },
        ],
      },
      {
        accountId: MAIN,
        userName: 'alice',
        path: '/people/',
        tags: { team: 'platform' },
        accessKeys: [{ accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey }],
      },
      { accountId: MAIN, userName: 'bob', path: '/people/', tags: { team: 'b' } },
      {
        accountId: LEGACY,
        userName: 'legacy-admin',
        accessKeys: [
          { accessKeyId: DEMO.legacyAdmin.accessKeyId, secretAccessKey: DEMO.legacyAdmin.secretAccessKey },
        ],
      },
    ],
    iamRoles: [
      {
        accountId: MAIN,
        roleName: 'EksAccessConnector',
        description: 'Assumed by eks-access-connector (self-hosted trust, as in the C1 setup guide)',
        trustPolicy: awsTrust(DEMO.connector.userArn),
        tags: { purpose: 'eks-access-connector' },
        inlinePolicies: [{ policyName: CONNECTOR_SYNC_POLICY, policyDocument: connectorSyncPolicy(MAIN) }],
      },
      {
        accountId: MAIN,
        roleName: 'PlatformDeployer',
        description: 'Deploys platform services; alice assumes it',
        trustPolicy: awsTrust(DEMO.alice.userArn),
      },
      {
        accountId: MAIN,
        roleName: 'BreakGlassAdmin',
        maxSessionDuration: 3600,
        trustPolicy: awsTrust(`arn:aws:iam::${MAIN}:root`),
      },
      { accountId: MAIN, roleName: 'EksNodeRole', trustPolicy: serviceTrust('ec2.amazonaws.com') },
      ...[
        'AdministratorAccess_3f2a9c1b7e5d4a60',
        'Developer_8b1e6d2f0a9c3e47',
        'ReadOnly_c4d7e9a1b3f50628',
      ].map((suffix) => ({
        accountId: MAIN,
        roleName: `AWSReservedSSO_${suffix}`,
        path: SSO_PATH,
        description: 'Managed by AWS IAM Identity Center',
        maxSessionDuration: 43200,
        trustPolicy: samlTrust(MAIN, 'AWSSSO_5d2c8e1f9a3b7c40_DO_NOT_DELETE'),
      })),
      {
        accountId: LEGACY,
        roleName: 'EksAccessConnector',
        description:
          'Assumed by eks-access-connector across accounts, with an external id (cloud-hosted trust, as in the C1 setup guide)',
        trustPolicy: awsTrust(DEMO.connector.userArn, {
          StringEquals: { 'sts:ExternalId': DEMO.connector.externalId },
        }),
        tags: { purpose: 'eks-access-connector' },
        inlinePolicies: [{ policyName: CONNECTOR_SYNC_POLICY, policyDocument: connectorSyncPolicy(LEGACY) }],
      },
      {
        accountId: LEGACY,
        roleName: 'LegacyDeployer',
        path: '/ci/',
        trustPolicy: awsTrust(`arn:aws:iam::${LEGACY}:root`),
      },
      { accountId: LEGACY, roleName: 'EksNodeRole', trustPolicy: serviceTrust('ec2.amazonaws.com') },
      {
        accountId: LEGACY,
        roleName: 'AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d',
        path: SSO_PATH,
        description: 'Managed by AWS IAM Identity Center',
        maxSessionDuration: 43200,
        trustPolicy: samlTrust(LEGACY, 'AWSSSO_0a7e3c9d1b5f2e86_DO_NOT_DELETE'),
      },
    ],
    clusters: [
      {
        ...DEMO.clusters.prodEu,
        // What `eks-sim kubeconfig` uses by default: the connector's role, mapped read-only.
        operator: { roleArn: DEMO.connector.roleArn },
        version: '1.31',
        tags: { env: 'prod' },
        accessEntries: [
          {
            principalArn: DEMO.connector.roleArn,
            policyAssociations: [{ policyArn: 'AmazonEKSAdminViewPolicy', accessScope: { type: 'cluster' } }],
          },
          {
            principalArn: DEMO.roles.ssoAdmin,
            policyAssociations: [
              { policyArn: 'AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } },
            ],
          },
          {
            principalArn: DEMO.roles.ssoDeveloper,
            policyAssociations: [
              {
                policyArn: 'AmazonEKSEditPolicy',
                accessScope: { type: 'namespace', namespaces: ['team-a', 'team-b'] },
              },
            ],
          },
          {
            principalArn: DEMO.roles.ssoReadOnly,
            policyAssociations: [{ policyArn: 'AmazonEKSViewPolicy', accessScope: { type: 'cluster' } }],
          },
          {
            principalArn: DEMO.roles.platformDeployer,
            username: 'platform-deployer',
            kubernetesGroups: ['platform-deployers'],
          },
          {
            principalArn: DEMO.alice.userArn,
            policyAssociations: [
              {
                policyArn: 'AmazonEKSViewPolicy',
                accessScope: { type: 'namespace', namespaces: ['monitoring'] },
              },
            ],
          },
        ],
        namespaces: teamNamespaces,
        serviceAccounts: [
          { namespace: 'team-a', name: 'app' },
          { namespace: 'team-a', name: 'ci-deployer' },
          { namespace: 'team-b', name: 'app' },
          { namespace: 'monitoring', name: 'prometheus' },
        ],
        configMaps: [{ namespace: 'team-a', name: 'app-config', data: { LOG_LEVEL: 'info' } }],
        // Left over from before the switch to API mode; EKS ignores it now.
        awsAuth: {
          mapRoles: [
            {
              rolearn: DEMO.roles.breakGlassAdmin,
              username: 'break-glass:{{SessionName}}',
              groups: ['system:masters'],
            },
          ],
        },
        clusterRoles: [...standardClusterRoles(), clusterRole('monitoring-reader', MONITORING_READER)],
        roles: [
          { namespace: 'team-a', name: 'deployer', rules: DEPLOYER },
          { namespace: 'team-b', name: 'deployer', rules: DEPLOYER },
        ],
        clusterRoleBindings: [
          clusterAdminBinding,
          {
            name: 'monitoring-reader',
            roleRef: ref('ClusterRole', 'monitoring-reader'),
            subjects: [sa('monitoring', 'prometheus')],
          },
        ],
        roleBindings: [
          {
            namespace: 'team-a',
            name: 'deployer',
            roleRef: ref('Role', 'deployer'),
            subjects: [group('platform-deployers'), sa('team-a', 'ci-deployer')],
          },
          {
            namespace: 'team-b',
            name: 'deployer',
            roleRef: ref('Role', 'deployer'),
            subjects: [group('platform-deployers')],
          },
          {
            namespace: 'team-b',
            name: 'alice-edit',
            roleRef: ref('ClusterRole', 'edit'),
            subjects: [user(DEMO.alice.userArn)],
          },
          {
            namespace: 'monitoring',
            name: 'team-a-app-view',
            roleRef: ref('ClusterRole', 'view'),
            subjects: [sa('team-a', 'app')],
          },
        ],
      },
      {
        ...DEMO.clusters.stagingUs,
        operator: { roleArn: DEMO.connector.roleArn },
        version: '1.30',
        tags: { env: 'staging' },
        accessEntries: [
          {
            principalArn: DEMO.connector.roleArn,
            policyAssociations: [{ policyArn: 'AmazonEKSAdminViewPolicy', accessScope: { type: 'cluster' } }],
          },
          {
            principalArn: DEMO.roles.ssoAdmin,
            policyAssociations: [
              { policyArn: 'AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } },
            ],
          },
          {
            principalArn: DEMO.roles.ssoDeveloper,
            policyAssociations: [
              {
                policyArn: 'AmazonEKSEditPolicy',
                accessScope: { type: 'namespace', namespaces: ['team-a'] },
              },
            ],
          },
        ],
        namespaces: teamNamespaces,
        serviceAccounts: [
          { namespace: 'team-a', name: 'app' },
          { namespace: 'team-b', name: 'app' },
          { namespace: 'monitoring', name: 'prometheus' },
        ],
        configMaps: [{ namespace: 'team-a', name: 'app-config', data: { LOG_LEVEL: 'debug' } }],
        awsAuth: {
          mapRoles: [
            nodeMapping(MAIN),
            {
              rolearn: DEMO.roles.breakGlassAdmin,
              username: 'break-glass:{{SessionName}}',
              groups: ['system:masters'],
            },
            {
              rolearn: DEMO.roles.platformDeployer,
              username: 'platform-deployer:{{SessionName}}',
              groups: ['platform-deployers'],
            },
          ],
          mapUsers: [
            { userarn: DEMO.alice.userArn, username: 'alice', groups: ['system:masters'] },
            { userarn: DEMO.bob.userArn, username: 'bob', groups: ['team-b-viewers'] },
          ],
        },
        clusterRoles: [...standardClusterRoles(), clusterRole('monitoring-reader', MONITORING_READER)],
        roles: [
          { namespace: 'team-a', name: 'deployer', rules: DEPLOYER },
          { namespace: 'team-b', name: 'deployer', rules: DEPLOYER },
        ],
        clusterRoleBindings: [
          clusterAdminBinding,
          {
            name: 'monitoring-reader',
            roleRef: ref('ClusterRole', 'monitoring-reader'),
            subjects: [sa('monitoring', 'prometheus')],
          },
        ],
        roleBindings: [
          {
            namespace: 'team-a',
            name: 'deployer',
            roleRef: ref('Role', 'deployer'),
            subjects: [group('platform-deployers')],
          },
          {
            namespace: 'team-b',
            name: 'deployer',
            roleRef: ref('Role', 'deployer'),
            subjects: [group('platform-deployers')],
          },
          {
            namespace: 'team-b',
            name: 'team-b-viewers',
            roleRef: ref('ClusterRole', 'view'),
            subjects: [group('team-b-viewers')],
          },
        ],
      },
      {
        ...DEMO.clusters.legacyUs,
        operator: { roleArn: DEMO.connector.legacyRoleArn, externalId: DEMO.connector.externalId },
        version: '1.29',
        tags: { env: 'legacy' },
        namespaces: ['default', 'kube-system', 'team-a', 'legacy-apps'],
        serviceAccounts: [{ namespace: 'legacy-apps', name: 'ci' }],
        awsAuth: {
          // aws-auth matches roles by name only, so these ARNs drop the IAM path (SSO, /ci/).
          mapRoles: [
            nodeMapping(LEGACY),
            {
              rolearn: DEMO.connector.legacyRoleArn,
              username: 'eks-access-connector',
              groups: [CONNECTOR_READERS_GROUP],
            },
            {
              rolearn: roleArnWithoutPath(DEMO.roles.legacySsoAdmin),
              username: 'admin:{{SessionName}}',
              groups: ['system:masters'],
            },
            {
              rolearn: roleArnWithoutPath(DEMO.roles.legacyDeployer),
              username: 'legacy-deployer:{{SessionName}}',
              groups: ['legacy-deployers'],
            },
          ],
          mapUsers: [
            { userarn: DEMO.legacyAdmin.userArn, username: 'legacy-admin', groups: ['system:masters'] },
          ],
        },
        clusterRoles: [
          ...standardClusterRoles(),
          clusterRole(CONNECTOR_READ_CLUSTER_ROLE, CONNECTOR_READ_RULES),
        ],
        roles: [{ namespace: 'legacy-apps', name: 'deployer', rules: DEPLOYER }],
        clusterRoleBindings: [
          clusterAdminBinding,
          {
            name: 'reader-role-binding',
            roleRef: ref('ClusterRole', CONNECTOR_READ_CLUSTER_ROLE),
            subjects: [group(CONNECTOR_READERS_GROUP)],
          },
        ],
        roleBindings: [
          {
            namespace: 'legacy-apps',
            name: 'deployer',
            roleRef: ref('Role', 'deployer'),
            subjects: [group('legacy-deployers')],
          },
          {
            namespace: 'team-a',
            name: 'ci-edit',
            roleRef: ref('ClusterRole', 'edit'),
            subjects: [sa('legacy-apps', 'ci')],
          },
        ],
      },
    ],
  };
}

/** Builds the built-in demo world (see the tables at the top of this file). */
export function createDemoWorld(): World {
  return buildWorld(createDemoDocument(), { source: 'demo world' });
}

/**
 * Gives the demo's connector write access in every cluster, as the C1 docs require for
 * provisioning (the demo maps it read-only): AmazonEKSClusterAdminPolicy on its access entry where
 * the cluster reads access entries, and cluster-admin for its aws-auth username in legacy-us.
 */
export function allowConnectorProvisioning(world: World): World {
  const at = new Date('2024-01-01T00:00:00Z');
  for (const roleArn of [DEMO.connector.roleArn, DEMO.connector.legacyRoleArn]) {
    const role = world.roles.get(roleArn);
    if (role?.policies)
      role.policies.inline.set(CONNECTOR_PROVISION_POLICY, connectorProvisionPolicy(role.accountId));
  }
  const policyArn = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
  for (const cluster of world.clusters.values()) {
    const entry = cluster.accessEntries.get(DEMO.connector.roleArn);
    if (entry) {
      entry.associations.set(policyArn, {
        policyArn,
        accessScope: { type: 'cluster', namespaces: [] },
        associatedAt: at,
        modifiedAt: at,
      });
    } else if (!cluster.kube.get('clusterrolebindings', undefined, 'eks-access-connector-provisioner')) {
      cluster.kube.create('clusterrolebindings', {
        metadata: { name: 'eks-access-connector-provisioner' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'eks-access-connector' }],
      });
    }
  }
  return world;
}
