// baton-eks configuration (the env names of C1's docs) → a credentials chain. The flows follow
// baton-eks (§3.2 of the reference), with two deliberate improvements: a role ARN given together
// with the default chain is assumed (baton-eks silently ignores it), and an ExternalId given with
// static keys is used (baton-eks drops it).
import { BATON_FIELDS, type BatonField } from '@eks-access/model';
import type { CredentialsConfig } from './credentials.js';

export interface BatonEksConfig {
  region?: string;
  clusterName?: string;
  /** BATON_ROLE_ARN or BATON_EKS_ASSUME_ROLE_ARN. */
  roleArn?: string;
  externalId?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  globalAccessKeyId?: string;
  globalSecretAccessKey?: string;
  globalRoleArn?: string;
  globalBindingExternalId?: string;
}

/** Each field's flag and variable: model's table, whose keys are these fields. */
const FIELDS: Record<keyof BatonEksConfig, BatonField> = BATON_FIELDS;

/** The environment variable behind each field, for messages that say what to set. */
export const BATON_ENV = Object.fromEntries(
  Object.entries(FIELDS).map(([key, field]) => [key, field.env]),
) as Record<keyof BatonEksConfig, string>;

export type HostingMode = 'self-hosted' | 'cloud-hosted' | 'default-chain';

export interface ResolvedBatonConfig {
  region: string;
  clusterName: string;
  hosting: HostingMode;
  credentials: CredentialsConfig;
}

/** Reads a baton-eks style configuration; returns every problem at once instead of the first. */
export function resolveBatonConfig(
  cfg: BatonEksConfig,
): { ok: true; value: ResolvedBatonConfig } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';
  if (!set(cfg.region)) problems.push(`the cluster's region is required (${BATON_ENV.region} or --region)`);
  if (!set(cfg.clusterName))
    problems.push(`the cluster name is required (${BATON_ENV.clusterName} or --cluster)`);
  if (set(cfg.accessKeyId) !== set(cfg.secretAccessKey)) {
    problems.push(`${BATON_ENV.accessKeyId} and ${BATON_ENV.secretAccessKey} must be set together`);
  }
  if (set(cfg.globalAccessKeyId) !== set(cfg.globalSecretAccessKey)) {
    problems.push(
      `${BATON_ENV.globalAccessKeyId} and ${BATON_ENV.globalSecretAccessKey} must be set together`,
    );
  }
  if (set(cfg.accessKeyId) && set(cfg.globalAccessKeyId)) {
    problems.push(
      `${BATON_ENV.accessKeyId} (self-hosted) and ${BATON_ENV.globalAccessKeyId} (cloud-hosted) cannot both be set`,
    );
  }
  if (set(cfg.globalRoleArn) && !set(cfg.roleArn))
    problems.push(
      `${BATON_ENV.globalRoleArn} needs ${BATON_ENV.roleArn}: the role to assume after the binding role`,
    );
  if (set(cfg.externalId) && !set(cfg.roleArn))
    problems.push(`${BATON_ENV.externalId} is given but there is no role to assume (${BATON_ENV.roleArn})`);
  if (problems.length > 0) return { ok: false, problems };

  let hosting: HostingMode;
  let credentials: CredentialsConfig;
  const assumeTarget = set(cfg.roleArn)
    ? [{ roleArn: cfg.roleArn.trim(), ...(set(cfg.externalId) ? { externalId: cfg.externalId } : {}) }]
    : [];
  if (set(cfg.accessKeyId)) {
    hosting = 'self-hosted';
    credentials = {
      base: {
        kind: 'static',
        accessKeyId: cfg.accessKeyId.trim(),
        secretAccessKey: cfg.secretAccessKey!.trim(),
      },
      assume: assumeTarget,
    };
  } else if (set(cfg.externalId) || set(cfg.globalRoleArn) || set(cfg.globalAccessKeyId)) {
    hosting = 'cloud-hosted';
    const base: CredentialsConfig['base'] = set(cfg.globalAccessKeyId)
      ? {
          kind: 'static',
          accessKeyId: cfg.globalAccessKeyId.trim(),
          secretAccessKey: cfg.globalSecretAccessKey!.trim(),
        }
      : { kind: 'default-chain' };
    const binding = set(cfg.globalRoleArn)
      ? [
          {
            roleArn: cfg.globalRoleArn.trim(),
            ...(set(cfg.globalBindingExternalId) ? { externalId: cfg.globalBindingExternalId } : {}),
          },
        ]
      : [];
    credentials = { base, assume: [...binding, ...assumeTarget] };
  } else {
    hosting = 'default-chain';
    credentials = { base: { kind: 'default-chain' }, assume: assumeTarget };
  }
  return {
    ok: true,
    value: { region: cfg.region!.trim(), clusterName: cfg.clusterName!.trim(), hosting, credentials },
  };
}
