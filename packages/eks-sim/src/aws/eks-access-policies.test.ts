import { describe, expect, it } from 'vitest';
import {
  ACCESS_POLICIES,
  ACCESS_POLICY_ARN_PREFIX,
  findAccessPolicy,
  type PolicyRule,
} from './eks-access-policies.js';

const rulesOf = (name: string): PolicyRule[] =>
  findAccessPolicy(`${ACCESS_POLICY_ARN_PREFIX}${name}`)?.rules ?? [];

/** Whether some rule grants `verb` on core-group `resource` (ignoring wildcards, which these policies do not use). */
const grantsCore = (rules: PolicyRule[], resource: string, verb: string) =>
  rules.some((r) => r.apiGroups?.includes('') && r.resources?.includes(resource) && r.verbs.includes(verb));

describe('access policy catalogue', () => {
  it('names every policy once, in code-point order, with its cluster-access-policy ARN', () => {
    const names = ACCESS_POLICIES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(names);
    for (const p of ACCESS_POLICIES) expect(p.arn).toBe(`arn:aws:eks::aws:cluster-access-policy/${p.name}`);
    expect(findAccessPolicy(`${ACCESS_POLICY_ARN_PREFIX}AmazonEKSGodModePolicy`)).toBeUndefined();
  });

  it('gives every rule verbs and either resources or non-resource URLs', () => {
    for (const p of ACCESS_POLICIES) {
      expect(p.rules.length, p.name).toBeGreaterThan(0);
      for (const r of p.rules) {
        expect(r.verbs.length, p.name).toBeGreaterThan(0);
        expect(Boolean(r.resources?.length) !== Boolean(r.nonResourceURLs?.length), p.name).toBe(true);
      }
    }
  });

  it('makes ClusterAdmin everything, and AdminView read of everything including secrets', () => {
    expect(rulesOf('AmazonEKSClusterAdminPolicy')).toEqual([
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]);
    expect(rulesOf('AmazonEKSAdminViewPolicy')).toEqual([
      { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('keeps secrets out of View, lets Edit write them, and adds namespaced RBAC only to Admin', () => {
    const view = rulesOf('AmazonEKSViewPolicy');
    const edit = rulesOf('AmazonEKSEditPolicy');
    const admin = rulesOf('AmazonEKSAdminPolicy');
    expect(grantsCore(view, 'secrets', 'get')).toBe(false);
    expect(view.every((r) => r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)))).toBe(true);
    expect(grantsCore(edit, 'secrets', 'create')).toBe(true);
    expect(grantsCore(edit, 'serviceaccounts', 'impersonate')).toBe(true);
    const rbacWrite = (rules: PolicyRule[]) =>
      rules.some(
        (r) =>
          r.apiGroups?.includes('rbac.authorization.k8s.io') &&
          r.resources?.includes('rolebindings') &&
          r.verbs.includes('create'),
      );
    expect(rbacWrite(edit)).toBe(false);
    expect(rbacWrite(admin)).toBe(true);
    expect(admin).toEqual(expect.arrayContaining(edit));
  });

  it('is frozen, so a consumer cannot change what another one reads', () => {
    const rules = rulesOf('AmazonEKSViewPolicy');
    expect(() => rules.push({ verbs: ['*'], nonResourceURLs: ['*'] })).toThrow(TypeError);
    expect(() => {
      rules[0]!.verbs.push('delete');
    }).toThrow(TypeError);
  });
});
