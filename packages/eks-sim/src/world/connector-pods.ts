// The demo connector running as pods in an EKS cluster with no static keys: the production shape of
// deploy/kubernetes. The pods run in prod-eu, namespace `eks-access`, as service account
// `eks-access-connector`, and get the role `EksAccessConnectorPod` (account 111111111111) by either
// mechanism EKS offers:
// - IRSA: an IAM OIDC provider for prod-eu's issuer, and a trust statement for
//   sts:AssumeRoleWithWebIdentity requiring aud = sts.amazonaws.com and sub = the service account;
// - EKS Pod Identity: an association of the service account with the role, and a trust statement
//   for the pods.eks.amazonaws.com service (sts:AssumeRole, sts:TagSession).
// From that role the workers assume each cluster's EksAccessConnector role, as they would from the
// static-key user: both connector roles trust the pod role too (the legacy account's still with
// its ExternalId), so every hosting mode reaches every demo cluster.
import type { PolicyStatement } from './types.js';
import { DEMO } from './demo.js';
import type { World } from './world.js';

const NAMESPACE = 'eks-access';
const SERVICE_ACCOUNT = 'eks-access-connector';

/** Names of the demo's pod identity (see `allowConnectorPods`). */
export const DEMO_PODS = {
  hostCluster: DEMO.clusters.prodEu.name,
  hostRegion: DEMO.clusters.prodEu.region,
  namespace: NAMESPACE,
  serviceAccount: SERVICE_ACCOUNT,
  subject: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`,
  roleArn: `arn:aws:iam::${DEMO.accounts.main}:role/EksAccessConnectorPod`,
} as const;

/**
 * Sets up the demo world so the connector can run as pods of prod-eu with IRSA or Pod Identity:
 * the namespace and service account, the OIDC provider, the pod role and its association, and the
 * connector roles trusting the pod role. Returns the world for chaining.
 */
export function allowConnectorPods(world: World): World {
  const host = world.getCluster(DEMO.clusters.prodEu.accountId, DEMO_PODS.hostRegion, DEMO_PODS.hostCluster);
  if (!host) throw new Error(`the world has no ${DEMO_PODS.hostCluster} cluster to host the connector`);
  if (!host.kube.get('namespaces', undefined, NAMESPACE))
    host.kube.create('namespaces', { metadata: { name: NAMESPACE } });
  if (!host.kube.get('serviceaccounts', NAMESPACE, SERVICE_ACCOUNT)) {
    host.kube.create('serviceaccounts', { metadata: { name: SERVICE_ACCOUNT, namespace: NAMESPACE } });
  }
  const provider =
    world.findOidcProvider(DEMO.accounts.main, host.oidcIssuer) ??
    world.addOidcProvider({ accountId: DEMO.accounts.main, url: host.oidcIssuer });
  if (!world.roles.has(DEMO_PODS.roleArn)) {
    world.addRole({
      accountId: DEMO.accounts.main,
      roleName: 'EksAccessConnectorPod',
      description: 'Assumed by the eks-access-connector pods (IRSA or EKS Pod Identity)',
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Irsa',
            Effect: 'Allow',
            Principal: { Federated: provider.arn },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                [`${provider.url}:aud`]: 'sts.amazonaws.com',
                [`${provider.url}:sub`]: DEMO_PODS.subject,
              },
            },
          },
          {
            Sid: 'PodIdentity',
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      },
    });
  }
  if (
    ![...host.podIdentityAssociations.values()].some(
      (a) => a.namespace === NAMESPACE && a.serviceAccount === SERVICE_ACCOUNT,
    )
  ) {
    world.addPodIdentityAssociation(host, {
      namespace: NAMESPACE,
      serviceAccount: SERVICE_ACCOUNT,
      roleArn: DEMO_PODS.roleArn,
    });
  }
  for (const arn of [DEMO.connector.roleArn, DEMO.connector.legacyRoleArn]) {
    const role = world.roles.get(arn);
    if (!role) continue;
    // A copy: the document may be shared with the world definition that rebuilds it on reset.
    const document = structuredClone(role.assumeRolePolicyDocument);
    const statement = document.Statement.find(
      (s: PolicyStatement) => s.Effect === 'Allow' && typeof s.Principal === 'object' && 'AWS' in s.Principal,
    );
    if (!statement || typeof statement.Principal !== 'object') continue;
    const principals = [statement.Principal.AWS ?? []].flat();
    if (principals.includes(DEMO_PODS.roleArn)) continue;
    statement.Principal = { ...statement.Principal, AWS: [...principals, DEMO_PODS.roleArn] };
    role.assumeRolePolicyDocument = document;
  }
  return world;
}
