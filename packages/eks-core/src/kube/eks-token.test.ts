import { createDemoWorld, DEMO, startSim } from '@eks-access/eks-sim';
import { describe, expect, it } from 'vitest';
import { ClusterSession } from '../session.js';
import { EksTokenSource, TOKEN_PREFIX } from './eks-token.js';

const credentials = async () => ({
  accessKeyId: DEMO.alice.accessKeyId,
  secretAccessKey: DEMO.alice.secretAccessKey,
});

describe('EksTokenSource', () => {
  it('reuses a token while it has more than a minute left, then mints a new one', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const source = new EksTokenSource(
      { credentials, region: 'eu-west-1', clusterName: 'prod-eu' },
      () => now,
    );
    const first = await source.get();
    expect(first.startsWith(TOKEN_PREFIX)).toBe(true);
    now += 13 * 60_000;
    expect(await source.get()).toBe(first);
    now += 90_000; // 14.5 minutes old: under a minute of its 15 left
    const second = await source.get();
    expect(second).not.toBe(first);
    const url = new URL(Buffer.from(second.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    expect(url.hostname).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260101T121430Z');
  });

  it('keeps a long-running session working past the 15-minute token lifetime', async () => {
    let offset = 0;
    const clock = () => Date.now() + offset;
    const sim = await startSim({ world: createDemoWorld, now: () => new Date(clock()) });
    try {
      const session = new ClusterSession({
        cluster: { name: 'prod-eu', region: 'eu-west-1' },
        credentials: {
          base: {
            kind: 'static',
            accessKeyId: DEMO.connector.accessKeyId,
            secretAccessKey: DEMO.connector.secretAccessKey,
          },
          assume: [{ roleArn: DEMO.connector.roleArn }],
        },
        endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
        now: clock,
      });
      const kube = await session.kube();
      expect((await kube.listAll('namespaces')).items).toHaveLength(5);
      offset = 16 * 60_000; // the first token is now past EKS's 15-minute window
      expect((await kube.listAll('namespaces')).items).toHaveLength(5);
      // Renewed before use: the API server never had to reject a stale token.
      expect(session.stats.snapshot()['kube:list:namespaces']).toMatchObject({ calls: 2, failed: 0 });
      session.close();
    } finally {
      await sim.close();
    }
  });
});
