// The doctor's report: one row per step of the connector's setup, each with what was found and,
// when it failed, the exact least-privilege change that fixes it. Plain JSON, so the API can store
// it and the CLI can print it as a table or as JSON.

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type FixKind = 'iam-policy' | 'trust-policy' | 'aws-cli' | 'rbac-yaml' | 'aws-auth' | 'config';

export interface DoctorFix {
  kind: FixKind;
  /** One line: what to do. */
  summary: string;
  /** The policy JSON, commands or YAML to apply. */
  text: string;
}

export type CheckGroup = 'credentials' | 'aws' | 'cluster' | 'kubernetes' | 'provisioning';

export interface DoctorCheck {
  /** Stable id: `credentials`, `assume-role:1`, `aws:eks:DescribeCluster`, `kube:list:namespaces`… */
  id: string;
  group: CheckGroup;
  title: string;
  status: CheckStatus;
  /** What was found, or why it failed (AWS's or Kubernetes's own words where they say it). */
  detail: string;
  fix?: DoctorFix;
}

export type DoctorStatus = 'pass' | 'warn' | 'fail';

export interface DoctorReport {
  cluster: {
    name: string;
    region: string;
    arn?: string;
    accountId?: string;
    authenticationMode?: string;
  };
  /** Who the connector acts as, once its credentials worked. */
  identity?: {
    /** What STS says (a session ARN for an assumed role). */
    arn: string;
    accountId: string;
    /** The IAM user or role ARN (path included) that access entries and aws-auth name. */
    principalArn: string;
  };
  /** How Kubernetes sees the connector, when it authenticates. */
  kubernetesUser?: { username: string; groups: string[]; via: string };
  provisioning: boolean;
  status: DoctorStatus;
  checks: DoctorCheck[];
  /** Every fix the failed checks need, merged where they can be (one IAM policy, one ClusterRole). */
  fixes: DoctorFix[];
  checkedAt: string;
  durationMs: number;
}

/** Overall status: any failure fails; otherwise any warning warns. */
export function overallStatus(checks: readonly DoctorCheck[]): DoctorStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'pass';
}
