import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { stsService } from '../aws/sts.js';
import { startTestAws } from '../testing.js';
import { createFleetWorld, fleetClusters, fleetFaults, parseFleetFlag } from './fleet.js';
import { GENERATOR_CONNECTOR_KEY } from './generate.js';
import { buildWorld, WorldFileError } from './load.js';
import { fleetSpecSchema } from './schema.js';

const spec = (text: string) => fleetSpecSchema.parse(parseFleetFlag(text));

describe('fleet worlds', () => {
  it('deals 1,000 clusters evenly over 100 accounts and 4 regions, with every mode and size', () => {
    const clusters = fleetClusters(spec('clusters=1000,accounts=100,regions=4'));
    expect(clusters).toHaveLength(1000);
    expect(new Set(clusters.map((c) => c.name)).size).toBe(1000);
    const perAccount = new Map<string, number>();
    for (const c of clusters) perAccount.set(c.accountId, (perAccount.get(c.accountId) ?? 0) + 1);
    expect(perAccount.size).toBe(100);
    expect(new Set(perAccount.values())).toEqual(new Set([10]));
    const count = (f: (c: (typeof clusters)[number]) => string) => {
      const m = new Map<string, number>();
      for (const c of clusters) m.set(f(c), (m.get(f(c)) ?? 0) + 1);
      return Object.fromEntries(m);
    };
    expect(Object.keys(count((c) => c.region)).sort()).toEqual(
      ['ap-southeast-2', 'eu-west-1', 'us-east-1', 'us-west-2'].sort(),
    );
    expect(count((c) => c.authenticationMode)).toEqual({
      API: 334,
      API_AND_CONFIG_MAP: 333,
      CONFIG_MAP: 333,
    });
    expect(count((c) => c.size)).toEqual({ large: 50, medium: 150, small: 800 });
    // Only the connector's own account trusts it without an ExternalId.
    expect(clusters.filter((c) => c.externalId === undefined).map((c) => c.accountId)).toEqual(
      Array.from({ length: 10 }, () => '200000000001'),
    );
    // Deterministic: the benchmark registers what the simulator serves without asking it.
    expect(fleetClusters(spec('clusters=1000,accounts=100,regions=4'))).toEqual(clusters);
  });

  it('builds every cluster with its mode, and the cross-account roles need their ExternalId', async () => {
    const s = spec('clusters=6,accounts=3,regions=2');
    const world = createFleetWorld(s);
    const clusters = fleetClusters(s);
    expect([...world.clusters.values()].map((c) => [c.name, c.authenticationMode]).sort()).toEqual(
      clusters.map((c) => [c.name, c.authenticationMode]).sort(),
    );
    // CONFIG_MAP clusters hold an aws-auth ConfigMap; API ones none.
    for (const c of world.clusters.values()) {
      const awsAuth = c.kube.get('configmaps', 'kube-system', 'aws-auth');
      expect(awsAuth !== undefined, c.name).toBe(c.authenticationMode !== 'API');
    }

    const aws = await startTestAws(world, [stsService]);
    try {
      const sts = new STSClient({
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: GENERATOR_CONNECTOR_KEY,
        maxAttempts: 1,
      });
      const assume = (roleArn: string, externalId?: string) =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: 'fleet-test',
            ...(externalId ? { ExternalId: externalId } : {}),
          }),
        );
      const home = clusters.find((c) => c.externalId === undefined)!;
      const away = clusters.find((c) => c.externalId !== undefined)!;
      await expect(assume(home.roleArn)).resolves.toMatchObject({ Credentials: expect.any(Object) });
      await expect(assume(away.roleArn)).rejects.toMatchObject({ name: 'AccessDenied' });
      await expect(assume(away.roleArn, 'fleet-wrong')).rejects.toMatchObject({ name: 'AccessDenied' });
      await expect(assume(away.roleArn, away.externalId)).resolves.toMatchObject({
        Credentials: expect.any(Object),
      });
    } finally {
      await aws.close();
    }
  });

  it('turns its limits into per-account and per-cluster fault rules', () => {
    expect(fleetFaults(spec('clusters=2,accounts=1,regions=1'))).toEqual([]);
    expect(
      fleetFaults(spec('clusters=2,accounts=1,regions=1,latencyMs=20,eksPerAccount=10,kubePerCluster=50')),
    ).toEqual([
      { target: '*', latencyMs: 20 },
      { target: 'eks:*', throttleAbovePerSecond: 10, per: 'account-region' },
      { target: 'kube:*', throttleAbovePerSecond: 50, per: 'cluster', retryAfterSeconds: 1 },
    ]);
  });

  it('reports every bad value of a fleet section at once, with its path', () => {
    expect(() => parseFleetFlag('clusters=10,accounts')).toThrow(/"accounts" is not key=value/);
    let error: unknown;
    try {
      buildWorld(
        { fleet: { clusters: 'many', accounts: 20, regions: 99, colour: 'blue' } },
        { source: 'f.yaml' },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorldFileError);
    const message = (error as Error).message;
    expect(message).toMatch(/fleet\.clusters/);
    expect(message).toMatch(/fleet\.regions/);
    expect(message).toMatch(/colour/);
  });

  it('is a world file section: a fleet plus the file’s own clusters', () => {
    const world = buildWorld({
      fleet: { clusters: 4, accounts: 2, regions: 1 },
      accounts: [{ id: '111111111111' }],
      clusters: [
        { name: 'extra', region: 'eu-west-1', accountId: '111111111111', authenticationMode: 'API' },
      ],
    });
    expect([...world.clusters.values()].map((c) => c.name).sort()).toEqual([
      'extra',
      'fleet-001-001',
      'fleet-001-002',
      'fleet-002-001',
      'fleet-002-002',
    ]);
  });
});
