import { describe, expect, it } from 'vitest';
import { KubeStore } from '../kube/store.js';

describe('KubeStore', () => {
  it('serves a continued list from the snapshot it started on while writers carry on', () => {
    const store = new KubeStore();
    for (const n of ['a', 'b', 'c', 'd']) store.create('namespaces', { metadata: { name: n } });
    const first = store.list('namespaces', { limit: 2 });
    expect(first.items.map((o) => o.metadata.name)).toEqual(['a', 'b']);
    store.delete('namespaces', undefined, 'c');
    store.create('namespaces', { metadata: { name: 'bb' } });
    const rest = store.list('namespaces', {
      atRevision: first.revision,
      afterKey: first.lastKey!,
      limit: 10,
    });
    expect(rest.items.map((o) => o.metadata.name)).toEqual(['c', 'd']);
    expect(store.list('namespaces').items.map((o) => o.metadata.name)).toEqual(['a', 'b', 'bb', 'd']);
  });

  it('expires continue tokens once their revision is compacted', () => {
    const store = new KubeStore();
    store.create('namespaces', { metadata: { name: 'a' } });
    const page = store.list('namespaces', { limit: 1 });
    store.create('namespaces', { metadata: { name: 'b' } });
    store.compact();
    expect(() => store.list('namespaces', { atRevision: page.revision, afterKey: 'a' })).toThrow(/too old/);
  });

  it('rejects an update carrying a stale resourceVersion', () => {
    const store = new KubeStore();
    const cm = store.create('configmaps', {
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: {},
    });
    store.update('configmaps', { ...cm, data: { mapRoles: '[]' } });
    expect(() => store.update('configmaps', { ...cm, data: { mapUsers: '[]' } })).toThrow(
      /has been modified/,
    );
  });
});
