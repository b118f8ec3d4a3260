// ListClusters and DescribeCluster. A cluster is only visible in the account and region it lives
// in, so a client signing for another region sees nothing, as on AWS.
import { createHash } from 'node:crypto';
import type { Cluster } from '../world/types.js';
import type { AwsCall, AwsReply } from './server.js';
import { epochSeconds, findCluster, paginate, readMaxResults } from './eks-request.js';

/** ListClusters: names of the caller's clusters in the signing region. */
export function listClusters(call: AwsCall): AwsReply {
  const maxResults = readMaxResults(call);
  const accountId = call.caller.identity.accountId;
  const clusters = call.world.clustersIn(accountId, call.region);
  const page = paginate(
    call,
    clusters,
    (c) => c.name,
    `ListClusters/${accountId}/${call.region}`,
    maxResults,
  );
  return {
    body: {
      clusters: page.items.map((c) => c.name),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    },
  };
}

/** DescribeCluster: the fields clients read (endpoint, CA, authentication mode) plus plausible rest. */
export function describeCluster(call: AwsCall, name: string): AwsReply {
  return { body: { cluster: clusterJson(findCluster(call, name)) } };
}

function clusterJson(cluster: Cluster): Record<string, unknown> {
  // Stable per cluster, so repeated describes (and rebuilt worlds) agree.
  const digest = createHash('sha256').update(cluster.arn).digest('hex');
  return {
    name: cluster.name,
    arn: cluster.arn,
    createdAt: epochSeconds(cluster.createdAt),
    version: cluster.version,
    ...(cluster.endpoint === undefined ? {} : { endpoint: cluster.endpoint }),
    roleArn: `arn:aws:iam::${cluster.accountId}:role/eks-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: [],
      securityGroupIds: [],
      clusterSecurityGroupId: `sg-${digest.slice(0, 17)}`,
      vpcId: `vpc-${digest.slice(17, 34)}`,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ['0.0.0.0/0'],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
    identity: {
      oidc: {
        issuer: cluster.oidcIssuer,
      },
    },
    status: 'ACTIVE',
    ...(cluster.tls
      ? { certificateAuthority: { data: Buffer.from(cluster.tls.caPem, 'utf8').toString('base64') } }
      : {}),
    platformVersion: 'eks.1',
    tags: { ...cluster.tags },
    accessConfig: { authenticationMode: cluster.authenticationMode },
  };
}
