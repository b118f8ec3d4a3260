import { describe, expect, it } from 'vitest';
import { redact } from './redact.js';

describe('redact', () => {
  it('drops keys named like secrets at any depth, whatever their case or separators', () => {
    const input = {
      name: 'prod',
      secret: 'a',
      password: 'b',
      token: 'c',
      accessKey: 'd',
      secretAccessKey: 'e',
      externalId: 'f',
      c1_client_secret: 'g',
      'X-Session-Token': 'h',
      nested: { credentials: { static: { accessKeyId: 'AKIA' } }, keep: 1 },
      list: [{ EXTERNAL_ID: 'i', region: 'eu-west-1' }],
    };
    expect(redact(input)).toEqual({ name: 'prod', nested: { keep: 1 }, list: [{ region: 'eu-west-1' }] });
  });

  it('keeps booleans that only say whether a secret is set, and leaves the input untouched', () => {
    const input = { hasExternalId: true, hasCredentials: false, externalId: 'x' };
    expect(redact(input)).toEqual({ hasExternalId: true, hasCredentials: false });
    expect(input.externalId).toBe('x');
  });

  it('passes primitives, null and dates through', () => {
    const at = new Date(0);
    expect(redact(null)).toBeNull();
    expect(redact('text')).toBe('text');
    expect(redact({ at })).toEqual({ at });
  });
});
