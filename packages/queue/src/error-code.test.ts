import { describe, expect, it } from 'vitest';
import { errorCodeOf } from './consumer.js';
import { LockLostError } from './errors.js';

describe('errorCodeOf', () => {
  it('gives the stable code of an error, or of its cause, and UNCLASSIFIED otherwise', () => {
    expect(errorCodeOf(new LockLostError('k'))).toBe('LOCK_LOST');
    expect(
      errorCodeOf(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'THROTTLED' }) })),
    ).toBe('THROTTLED');
    expect(errorCodeOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorCodeOf(new Error('plain'))).toBe('UNCLASSIFIED');
    expect(errorCodeOf('a string')).toBe('UNCLASSIFIED');
  });

  it('never turns free text into a label value', () => {
    expect(errorCodeOf(Object.assign(new Error('x'), { code: 'not a code: cluster prod-eu' }))).toBe(
      'UNCLASSIFIED',
    );
    expect(errorCodeOf(Object.assign(new Error('x'), { code: 42 }))).toBe('UNCLASSIFIED');
  });
});
