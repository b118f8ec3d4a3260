import { describe, expect, it } from 'vitest';
import { Faults } from './faults.js';

describe('rate limits and observed rates', () => {
  it('limits each account on its own when the rule is per account, and all calls together otherwise', () => {
    const perAccount = new Faults([{ target: 'eks:*', throttleAbovePerSecond: 2, per: 'account' }]);
    const shared = new Faults([{ target: 'eks:*', throttleAbovePerSecond: 2 }]);
    const throttled = (f: Faults, account: string, at: number) =>
      f.decide('eks:DescribeCluster', { account }, at).throttle;
    for (const f of [perAccount, shared]) {
      expect([throttled(f, '111111111111', 0), throttled(f, '111111111111', 10)]).toEqual([false, false]);
      expect(throttled(f, '111111111111', 20)).toBe(true);
    }
    expect(throttled(perAccount, '222222222222', 30)).toBe(false);
    expect(throttled(shared, '222222222222', 30)).toBe(true);
    // The window slides: a second later the account may call again.
    expect(throttled(perAccount, '111111111111', 1001)).toBe(false);
  });

  it('limits each cluster on its own when the rule is per cluster', () => {
    const f = new Faults([{ target: 'kube:*', throttleAbovePerSecond: 1, per: 'cluster' }]);
    expect(f.decide('kube:list:roles', { cluster: 'a' }, 0).throttle).toBe(false);
    expect(f.decide('kube:list:roles', { cluster: 'a' }, 1).throttle).toBe(true);
    expect(f.decide('kube:list:roles', { cluster: 'b' }, 2).throttle).toBe(false);
  });

  it('reports the most calls received and served in any one-second window, per account and cluster', () => {
    const f = new Faults([{ target: 'eks:*', throttleAbovePerSecond: 3, per: 'account' }]);
    const times = [0, 100, 200, 300, 400, 1150, 1200, 1250, 2600];
    for (const t of times) f.decide('eks:ListAccessEntries', { account: '111111111111', cluster: 'prod' }, t);
    f.decide('kube:list:roles', { account: '111111111111', cluster: 'prod' }, 0);
    const rates = f.rates();
    expect(rates.accounts['111111111111']).toEqual({
      eks: { calls: 9, throttled: 2, peakPerSecond: 5, peakServedPerSecond: 3 },
      kube: { calls: 1, throttled: 0, peakPerSecond: 1, peakServedPerSecond: 1 },
    });
    expect(rates.clusters.prod?.eks).toEqual(rates.accounts['111111111111']!.eks);
    f.resetCounters();
    expect(f.rates()).toEqual({ windowMs: 1000, accounts: {}, clusters: {} });
  });

  it('limits an account in each region on its own when the rule is per account-region, as AWS does', () => {
    const f = new Faults([{ target: 'eks:*', throttleAbovePerSecond: 2, per: 'account-region' }]);
    const eu = { account: '111111111111', region: 'eu-west-1' };
    const us = { account: '111111111111', region: 'us-east-1' };
    expect(f.decide('eks:ListClusters', eu, 0).throttle).toBe(false);
    expect(f.decide('eks:ListClusters', eu, 1).throttle).toBe(false);
    expect(f.decide('eks:ListClusters', eu, 2).throttle).toBe(true);
    expect(f.decide('eks:ListClusters', us, 3).throttle).toBe(false);
    expect(f.decide('eks:ListClusters', { account: '222222222222', region: 'eu-west-1' }, 4).throttle).toBe(
      false,
    );
    expect(f.rates().accountRegions?.['111111111111/eu-west-1']?.eks).toEqual({
      calls: 3,
      throttled: 1,
      peakPerSecond: 3,
      peakServedPerSecond: 2,
    });
  });

  it('applies a rule only to the account it names', () => {
    const f = new Faults([{ target: '*', account: '222222222222', errorRate: 1, errorStatus: 503 }]);
    expect(f.decide('iam:ListRoles', { account: '111111111111' }).errorStatus).toBeUndefined();
    expect(f.decide('iam:ListRoles', { account: '222222222222' }).errorStatus).toBe(503);
  });
});
