import { describe, expect, it } from 'vitest';
import { applyConfiguration, fieldPaths, fromFieldsV1, toFieldsV1 } from './apply.js';
import { KubeError } from './status.js';

const options = (manager: string, force = false) => ({
  manager,
  force,
  apiVersion: 'v1',
  now: new Date('2026-01-01T00:00:00Z'),
  describe: { kind: 'configmaps', group: '', name: 'cm' },
});

function configMap(data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'ns' }, data };
}

describe('server-side apply', () => {
  it('owns the leaves a configuration sets, and reads back the FieldsV1 it writes', () => {
    const paths = fieldPaths({ ...configMap({ a: '1' }), metadata: { name: 'cm', labels: { x: 'y' } } });
    expect(paths).toEqual([
      ['metadata', 'labels', 'x'],
      ['data', 'a'],
    ]);
    expect(toFieldsV1(paths)).toEqual({
      'f:metadata': { 'f:labels': { 'f:x': {} } },
      'f:data': { 'f:a': {} },
    });
    expect(fromFieldsV1(toFieldsV1(paths))).toEqual(paths);
  });

  it('removes what the manager stopped applying, and the maps that leaves empty', () => {
    const first = applyConfiguration(undefined, configMap({ a: '1', b: '2' }), options('m'));
    const second = applyConfiguration(first, configMap({ b: '3' }), options('m'));
    expect(second.data).toEqual({ b: '3' });
    const { data: _data, ...withoutData } = configMap({});
    const third = applyConfiguration(second, withoutData, options('m'));
    expect(third).not.toHaveProperty('data');
  });

  it('reports every conflicting field of every other applier in one 409', () => {
    const live = applyConfiguration(undefined, configMap({ a: '1', b: '2' }), options('one'));
    let err: unknown;
    try {
      applyConfiguration(live, configMap({ a: 'x', b: 'y' }), options('two'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).code).toBe(409);
    expect((err as KubeError).message).toBe(
      'Apply failed with 2 conflicts: conflicts with "one" using v1:\n- .data.a\n- .data.b',
    );
    const forced = applyConfiguration(live, configMap({ a: 'x' }), options('two', true));
    expect(forced.data).toEqual({ a: 'x', b: '2' });
  });
});
