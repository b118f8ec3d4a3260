import { describe, expect, it } from 'vitest';
import { createTableHasher, snapshotHash } from './content-hash.js';
import { encodeCopyRow } from './copy.js';

const lines = ['a\tb\n', 'c\t{"k":1}\n', 'd\t\\N\n'];

function hashOf(rows: string[], part: 'resources' | 'grants' = 'grants'): string {
  const hasher = createTableHasher(part);
  for (const line of rows) hasher.add(line);
  return hasher.digest();
}

describe('content hashes', () => {
  it('do not depend on the order rows come in', () => {
    expect(hashOf(lines)).toBe(hashOf([...lines].reverse()));
    expect(hashOf(lines)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change with any row, a repeated row, or the table the rows belong to', () => {
    const h = hashOf(lines);
    expect(hashOf(['a\tB\n', ...lines.slice(1)])).not.toBe(h);
    expect(hashOf([...lines, lines[0]!])).not.toBe(h);
    expect(hashOf(lines.slice(1))).not.toBe(h);
    expect(hashOf(lines, 'resources')).not.toBe(h);
    expect(hashOf([])).not.toBe(hashOf([], 'resources'));
  });

  it('see JSON objects the same whatever order their keys were built in', () => {
    expect(encodeCopyRow([{ json: { b: 1, a: { d: 2, c: [{ f: 1, e: 2 }] } } }])).toBe(
      encodeCopyRow([{ json: { a: { c: [{ e: 2, f: 1 }], d: 2 }, b: 1 } }]),
    );
  });

  it('of a snapshot change when any of its tables does', () => {
    const parts = { resources: hashOf(['r\n']), entitlements: hashOf(['e\n']), grants: hashOf(lines) };
    const h = snapshotHash(parts);
    expect(snapshotHash({ ...parts })).toBe(h);
    expect(snapshotHash({ ...parts, grants: hashOf(lines.slice(1)) })).not.toBe(h);
    expect(snapshotHash({ ...parts, resources: parts.entitlements, entitlements: parts.resources })).not.toBe(
      h,
    );
  });
});
