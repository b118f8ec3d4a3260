import { describe, expect, it } from 'vitest';
import { isKsuid, newKsuid, parseKsuid } from './ksuid.js';

describe('KSUID', () => {
  it('encodes the reference KSUID from segmentio/ksuid', () => {
    // Timestamp 107608047 (2017-10-10T04:00:47Z), payload B5A1CD34B5F99D1154FB6853345C9735.
    const at = new Date((107_608_047 + 1_400_000_000) * 1000);
    const payload = Buffer.from('B5A1CD34B5F99D1154FB6853345C9735', 'hex');
    expect(newKsuid(at, payload)).toBe('0ujtsYcgvSTl8PAuAdqWYSMnLOv');
    expect(parseKsuid('0ujtsYcgvSTl8PAuAdqWYSMnLOv')).toEqual({
      timestamp: at,
      payload: new Uint8Array(payload),
    });
  });

  it('is 27 base62 characters that sort in time order', () => {
    const earlier = newKsuid(new Date('2025-01-01T00:00:00Z'));
    const later = newKsuid(new Date('2025-01-01T00:00:01Z'));
    for (const id of [earlier, later]) expect(id).toMatch(/^[0-9A-Za-z]{27}$/);
    expect(earlier < later).toBe(true);
    expect(parseKsuid(later).timestamp).toEqual(new Date('2025-01-01T00:00:01Z'));
  });

  it('gives a different id each time for the same second', () => {
    const at = new Date();
    expect(newKsuid(at)).not.toBe(newKsuid(at));
  });

  it('accepts the largest KSUID and rejects malformed ones', () => {
    const max = newKsuid(new Date((0xffffffff + 1_400_000_000) * 1000), new Uint8Array(16).fill(0xff));
    expect(max).toBe('aWgEPTl1tmebfsQzFP4bxwgy80V');
    expect(isKsuid(max)).toBe(true);
    expect(isKsuid('aWgEPTl1tmebfsQzFP4bxwgy80W')).toBe(false);
    expect(isKsuid('not-a-ksuid')).toBe(false);
    expect(isKsuid('0ujtsYcgvSTl8PAuAdqWYSMnLO')).toBe(false);
    expect(() => parseKsuid('short')).toThrow(RangeError);
    expect(() => newKsuid(new Date('2000-01-01T00:00:00Z'))).toThrow(RangeError);
  });
});
