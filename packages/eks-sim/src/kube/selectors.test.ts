import { describe, expect, it } from 'vitest';
import { KubeError } from './status.js';
import {
  matchesRequirements,
  matchesStructuredSelector,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import type { KubeObject } from './store.js';

const matches = (selector: string, labels?: Record<string, string>) =>
  matchesRequirements(parseLabelSelector(selector), labels);

describe('label selectors', () => {
  it('supports equality, inequality, set and existence requirements', () => {
    const labels = { app: 'web', tier: 'front', 'example.com/team': 'a' };
    expect(matches('app=web,tier==front', labels)).toBe(true);
    expect(matches('app!=web', labels)).toBe(false);
    expect(matches('missing!=x', labels)).toBe(true);
    expect(matches('tier in (front, back),app notin (db)', labels)).toBe(true);
    expect(matches('example.com/team', labels)).toBe(true);
    expect(matches('!example.com/team', labels)).toBe(false);
    expect(matches('app notin (web)', undefined)).toBe(true);
    expect(matches('app', undefined)).toBe(false);
    expect(matches('', undefined)).toBe(true);
  });

  it('answers a malformed selector with a 400', () => {
    for (const bad of ['app in web', 'app=(x', 'bad key=1', 'app in ()', 'a=b,']) {
      const err = (() => {
        try {
          parseLabelSelector(bad);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(KubeError);
      expect((err as KubeError).code).toBe(400);
    }
  });

  it('matches structured selectors as ClusterRole aggregation uses them', () => {
    const labels = { 'rbac.example.com/aggregate-to-view': 'true', tier: 'x' };
    expect(
      matchesStructuredSelector({ matchLabels: { 'rbac.example.com/aggregate-to-view': 'true' } }, labels),
    ).toBe(true);
    expect(
      matchesStructuredSelector(
        { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] },
        labels,
      ),
    ).toBe(false);
    expect(
      matchesStructuredSelector({ matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, labels),
    ).toBe(true);
  });
});

describe('field selectors', () => {
  const obj = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '' },
  } as KubeObject;

  it('selects on metadata.name and metadata.namespace only', () => {
    expect(parseFieldSelector('metadata.name=a,metadata.namespace!=other', true)(obj)).toBe(true);
    expect(parseFieldSelector('metadata.name==b', true)(obj)).toBe(false);
    expect(() => parseFieldSelector('metadata.namespace=ns', false)).toThrow(/field label not supported/);
    expect(() => parseFieldSelector('spec.x=1', true)).toThrow(/field label not supported: spec.x/);
  });
});
