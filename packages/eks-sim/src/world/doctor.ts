// The `doctor` world: the demo world plus a sandbox account whose two clusters were set up by
// following the C1 EKS guide literally, with the mistakes people make doing so. `eks-access doctor`
// must find each of them, and `eks-access setup --apply` must repair them.
//
// ACCOUNT 333333333333 (acme-sandbox)
//   user/sandbox-admin   access key AKIAEKSSIMSANDBOXADM; AdministratorAccess; system:masters in
//                        broken-eu (aws-auth) and cluster admin in broken-api (access entry)
//   user/people/sandbox-dev  no access anywhere (a grantee for provisioning tests)
//   role/EksAccessConnector  trusts 111 user/eks-access-connector only with
//                        sts:ExternalId = c1-sandbox-external-id-2d9e41          (fault: ExternalId)
//                        inline policy copied from the guide's EKS statement, without
//                        iam:ListRoles                                            (fault: permission)
// CLUSTERS
//   broken-eu   eu-west-1  CONFIG_MAP  aws-auth maps the connector role to user eks-access-connector,
//               group readers. The guide's ClusterRole read-only-access-cluster-role exists; its
//               binding reader-role-binding names ClusterRole read-only-access, which does not
//               (fault: dangling roleRef). Someone then bound an RBAC-only reader to the connector's
//               user, so it can list RBAC objects but not namespaces or service accounts
//               (fault: missing Kubernetes permission).
//   broken-api  eu-west-1  API         the connector role has no access entry     (fault: no access)
import {
  BOOTSTRAP_LABELS,
  CONNECTOR_READ_RULES,
  STANDARD_CLUSTER_ROLES,
  type PolicyRule,
} from './defaults.js';
import { createDemoDocument, DEMO } from './demo.js';
import { buildWorld } from './load.js';
import type { WorldDocumentInput } from './schema.js';
import type { World } from './world.js';

const SANDBOX = '333333333333';

/** Fixed identifiers of the doctor world's sandbox account, for tests and docs. */
export const DOCTOR = {
  account: SANDBOX,
  admin: {
    userArn: `arn:aws:iam::${SANDBOX}:user/sandbox-admin`,
    accessKeyId: 'AKIAEKSSIMSANDBOXADM',
    secretAccessKey: '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',
  },
  connectorRoleArn: `arn:aws:iam::${SANDBOX}:role/EksAccessConnector`,
  devUserArn: `arn:aws:iam::${SANDBOX}:user/people/sandbox-dev`,
  externalId: 'c1-sandbox-external-id-2d9e41',
  clusters: {
    brokenEu: {
      name: 'broken-eu',
      accountId: SANDBOX,
      region: 'eu-west-1',
      authenticationMode: 'CONFIG_MAP',
    },
    brokenApi: { name: 'broken-api', accountId: SANDBOX, region: 'eu-west-1', authenticationMode: 'API' },
  },
  /** The dangling binding the C1 guide's example leads to. */
  danglingBinding: 'reader-role-binding',
  danglingRoleRef: 'read-only-access',
  guideClusterRole: 'read-only-access-cluster-role',
} as const;

const RBAC_READER: PolicyRule[] = [
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['clusterroles', 'roles', 'clusterrolebindings', 'rolebindings'],
    verbs: ['get', 'list', 'watch'],
  },
];

const standardClusterRoles = () =>
  Object.entries(STANDARD_CLUSTER_ROLES).map(([name, rules]) => ({ name, rules, labels: BOOTSTRAP_LABELS }));
const clusterAdminBinding = {
  name: 'cluster-admin',
  labels: BOOTSTRAP_LABELS,
  roleRef: { kind: 'ClusterRole' as const, name: 'cluster-admin' },
  subjects: [{ kind: 'Group' as const, name: 'system:masters' }],
};

/** The doctor world as a world document: the demo's, plus the sandbox account. */
export function createDoctorDocument(): WorldDocumentInput {
  const demo = createDemoDocument();
  return {
    ...demo,
    accounts: [...(demo.accounts ?? []), { id: SANDBOX, alias: 'acme-sandbox' }],
    iamUsers: [
      ...(demo.iamUsers ?? []),
      {
        accountId: SANDBOX,
        userName: 'sandbox-admin',
        accessKeys: [
          { accessKeyId: DOCTOR.admin.accessKeyId, secretAccessKey: DOCTOR.admin.secretAccessKey },
        ],
        managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      },
      // Someone to grant access to once the connector may provision.
      { accountId: SANDBOX, userName: 'sandbox-dev', path: '/people/' },
    ],
    iamRoles: [
      ...(demo.iamRoles ?? []),
      {
        accountId: SANDBOX,
        roleName: 'EksAccessConnector',
        description: 'Set up by following the C1 guide',
        trustPolicy: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: DEMO.connector.userArn },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'sts:ExternalId': DOCTOR.externalId } },
            },
          ],
        },
        inlinePolicies: [
          {
            policyName: 'C1Permissions',
            policyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: [
                    'eks:DescribeCluster',
                    'eks:ListClusters',
                    'eks:ListAssociatedAccessPolicies',
                    'eks:DescribeAccessEntry',
                    'eks:ListAccessEntries',
                    'eks:ListAccessPolicies',
                  ],
                  Resource: '*',
                },
              ],
            },
          },
        ],
      },
    ],
    clusters: [
      ...(demo.clusters ?? []),
      {
        ...DOCTOR.clusters.brokenEu,
        version: '1.31',
        namespaces: ['default', 'kube-system', 'apps'],
        serviceAccounts: [{ namespace: 'apps', name: 'web' }],
        awsAuth: {
          mapRoles: [
            { rolearn: DOCTOR.connectorRoleArn, username: 'eks-access-connector', groups: ['readers'] },
          ],
          mapUsers: [
            { userarn: DOCTOR.admin.userArn, username: 'sandbox-admin', groups: ['system:masters'] },
          ],
        },
        clusterRoles: [
          ...standardClusterRoles(),
          { name: DOCTOR.guideClusterRole, rules: CONNECTOR_READ_RULES },
          { name: 'rbac-reader', rules: RBAC_READER },
        ],
        clusterRoleBindings: [
          clusterAdminBinding,
          {
            name: DOCTOR.danglingBinding,
            roleRef: { kind: 'ClusterRole', name: DOCTOR.danglingRoleRef },
            subjects: [{ kind: 'Group', name: 'readers' }],
          },
          {
            name: 'connector-rbac-reader',
            roleRef: { kind: 'ClusterRole', name: 'rbac-reader' },
            subjects: [{ kind: 'User', name: 'eks-access-connector' }],
          },
        ],
      },
      {
        ...DOCTOR.clusters.brokenApi,
        version: '1.31',
        namespaces: ['default', 'kube-system', 'apps'],
        accessEntries: [
          {
            principalArn: DOCTOR.admin.userArn,
            policyAssociations: [
              { policyArn: 'AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } },
            ],
          },
        ],
        clusterRoles: standardClusterRoles(),
        clusterRoleBindings: [clusterAdminBinding],
      },
    ],
  };
}

/** Builds the doctor world (the demo world plus the misconfigured sandbox clusters). */
export function createDoctorWorld(): World {
  return buildWorld(createDoctorDocument(), { source: 'doctor world' });
}
