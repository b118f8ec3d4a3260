// The aws-auth ConfigMap as EKS reads it: `mapRoles`, `mapUsers` and `mapAccounts` are YAML
// documents held in string values. Shared by the world loader and the generator.
import { stringify } from 'yaml';
import type { KubeObjectInput } from '../kube/store.js';

export interface AwsAuthRoleMapping {
  rolearn: string;
  username?: string | undefined;
  groups?: string[] | undefined;
}

export interface AwsAuthUserMapping {
  userarn: string;
  username?: string | undefined;
  groups?: string[] | undefined;
}

export interface AwsAuthContent {
  mapRoles?: string | AwsAuthRoleMapping[] | undefined;
  mapUsers?: string | AwsAuthUserMapping[] | undefined;
  mapAccounts?: string | string[] | undefined;
}

function render(value: string | object[] | string[]): string {
  if (typeof value === 'string') return value;
  // Key order as the EKS docs print it (arn, username, groups); `undefined` fields are left out.
  const clean = value.map((v) =>
    typeof v === 'string' ? v : Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)),
  );
  return stringify(clean, { lineWidth: 0 });
}

/** Builds the aws-auth ConfigMap (kube-system/aws-auth) from structured or raw mappings. */
export function awsAuthConfigMap(content: AwsAuthContent): KubeObjectInput {
  const data: Record<string, string> = {};
  if (content.mapRoles !== undefined) data.mapRoles = render(content.mapRoles);
  if (content.mapUsers !== undefined) data.mapUsers = render(content.mapUsers);
  if (content.mapAccounts !== undefined) data.mapAccounts = render(content.mapAccounts);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system' },
    data,
  };
}

/** Strips the IAM path from a role ARN: aws-auth matches roles by `role/<name>` only. */
export function roleArnWithoutPath(arn: string): string {
  return arn.replace(/:role\/(?:.*\/)?([^/]+)$/, ':role/$1');
}
