import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, PatchError } from './patch.js';

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes on null and replaces arrays whole', () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    expect(applyMergePatch(target, { a: { b: null, d: 3 }, list: [9] })).toEqual({
      a: { c: 2, d: 3 },
      list: [9],
      keep: true,
    });
    expect(target).toEqual({ a: { b: 1, c: 2 }, list: [1, 2], keep: true });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { labels: { a: '1' } }, subjects: [{ name: 'x' }, { name: 'y' }] };

  it('applies add, remove, replace, move, copy and test in order, escaping ~0 and ~1', () => {
    const out = applyJsonPatch(doc, [
      { op: 'test', path: '/subjects/1/name', value: 'y' },
      { op: 'add', path: '/subjects/-', value: { name: 'z' } },
      { op: 'add', path: '/subjects/0', value: { name: 'w' } },
      { op: 'remove', path: '/subjects/2' },
      { op: 'replace', path: '/metadata/labels/a', value: '2' },
      { op: 'add', path: '/metadata/labels/example.com~1team', value: 't' },
      { op: 'copy', from: '/metadata/labels/a', path: '/metadata/labels/b' },
      { op: 'move', from: '/metadata/labels/b', path: '/metadata/labels/c~0d' },
    ]);
    expect(out).toEqual({
      metadata: { labels: { a: '2', 'example.com/team': 't', 'c~d': '2' } },
      subjects: [{ name: 'w' }, { name: 'x' }, { name: 'z' }],
    });
    expect(doc.subjects).toHaveLength(2);
  });

  it('applies all operations or none', () => {
    expect(() =>
      applyJsonPatch(doc, [
        { op: 'replace', path: '/metadata/labels/a', value: 'changed' },
        { op: 'test', path: '/metadata/labels/a', value: '1' },
      ]),
    ).toThrow(/testing value \/metadata\/labels\/a failed/);
    expect(doc.metadata.labels.a).toBe('1');
  });

  it('separates malformed patches (decode) from patches that do not apply (apply)', () => {
    const kind = (patch: unknown) => {
      try {
        applyJsonPatch(doc, patch);
        return 'ok';
      } catch (err) {
        return err instanceof PatchError ? err.kind : 'other';
      }
    };
    expect(kind({ op: 'add' })).toBe('decode');
    expect(kind([{ op: 'frobnicate', path: '/a' }])).toBe('decode');
    expect(kind([{ op: 'add', path: 'no-slash', value: 1 }])).toBe('decode');
    expect(kind([{ op: 'add', path: '/a' }])).toBe('decode');
    expect(kind([{ op: 'remove', path: '/missing' }])).toBe('apply');
    expect(kind([{ op: 'replace', path: '/subjects/5', value: 1 }])).toBe('apply');
    expect(kind([{ op: 'add', path: '/missing/deeper', value: 1 }])).toBe('apply');
    expect(kind([{ op: 'test', path: '/missing', value: null }])).toBe('ok');
  });
});
