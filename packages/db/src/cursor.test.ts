import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, isIsoTimestamp, isKeyString } from './cursor.js';
import { InvalidCursorError } from './errors.js';

describe('cursor checks', () => {
  it('accept only timestamps Postgres stores as given', () => {
    expect(isIsoTimestamp(new Date('2026-03-01T12:00:00Z').toISOString())).toBe(true);
    // JavaScript parses these; Postgres refuses them (or JavaScript silently rolls them over).
    for (const forged of [
      '2024-02-31T00:00:00.000Z',
      '2023-02-29T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-01-01T24:00:00.000Z',
    ]) {
      expect(isIsoTimestamp(forged), forged).toBe(false);
    }
  });

  it('accept only key strings Postgres can compare', () => {
    expect(isKeyString('cluster_role:view:team-a:member')).toBe(true);
    expect(isKeyString('role:a\u0000b')).toBe(false);
    expect(isKeyString('x\ud800')).toBe(false);
    expect(isKeyString('emoji \ud83d\ude00 ok')).toBe(true);
  });

  it('turn a forged cursor with an impossible date into InvalidCursorError', () => {
    const forged = encodeCursor({ c: '2024-02-31T00:00:00.000Z', i: '00000000-0000-4000-8000-000000000000' });
    const check = (v: unknown): v is { c: string } =>
      typeof v === 'object' && v !== null && isIsoTimestamp((v as { c?: unknown }).c);
    expect(() => decodeCursor(forged, check)).toThrow(InvalidCursorError);
  });
});
