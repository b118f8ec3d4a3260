import { describe, expect, it } from 'vitest';
import { resolveBatonConfig } from './baton-config.js';

const ROLE = 'arn:aws:iam::111111111111:role/EksAccessConnector';

describe('resolveBatonConfig', () => {
  it('self-hosted: static keys then the connector role, as the C1 docs set it up', () => {
    const r = resolveBatonConfig({
      region: 'eu-west-1',
      clusterName: 'prod',
      accessKeyId: 'AKIA1',
      secretAccessKey: 's',
      roleArn: ROLE,
    });
    expect(r).toEqual({
      ok: true,
      value: {
        region: 'eu-west-1',
        clusterName: 'prod',
        hosting: 'self-hosted',
        credentials: {
          base: { kind: 'static', accessKeyId: 'AKIA1', secretAccessKey: 's' },
          assume: [{ roleArn: ROLE }],
        },
      },
    });
  });

  it('cloud-hosted: base → binding role with its ExternalId → connector role with the tenant ExternalId', () => {
    const r = resolveBatonConfig({
      region: 'us-east-1',
      clusterName: 'c',
      roleArn: ROLE,
      externalId: 'tenant-ext',
      globalRoleArn: 'arn:aws:iam::765656841499:role/ConductorOneService',
      globalBindingExternalId: 'binding-ext',
    });
    expect(r.ok && r.value.hosting).toBe('cloud-hosted');
    expect(r.ok && r.value.credentials).toEqual({
      base: { kind: 'default-chain' },
      assume: [
        { roleArn: 'arn:aws:iam::765656841499:role/ConductorOneService', externalId: 'binding-ext' },
        { roleArn: ROLE, externalId: 'tenant-ext' },
      ],
    });
  });

  it('assumes the role with the default chain instead of ignoring it as baton-eks does', () => {
    const r = resolveBatonConfig({ region: 'us-east-1', clusterName: 'c', roleArn: ROLE });
    expect(r.ok && r.value.credentials.assume).toEqual([{ roleArn: ROLE }]);
  });

  it('lists every problem with the variable to set', () => {
    const r = resolveBatonConfig({ accessKeyId: 'AKIA', externalId: 'x' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toEqual([
      expect.stringContaining('BATON_EKS_REGION'),
      expect.stringContaining('BATON_EKS_CLUSTER_NAME'),
      expect.stringContaining('BATON_EKS_SECRET_ACCESS_KEY'),
      expect.stringContaining('BATON_EXTERNAL_ID'),
    ]);
  });
});
