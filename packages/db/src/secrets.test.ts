import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, EncryptionKeyError } from './errors.js';
import { createSecretBox } from './secrets.js';

const key = () => randomBytes(32).toString('base64');

describe('createSecretBox', () => {
  it('opens what it sealed, strings and objects alike', () => {
    const box = createSecretBox(key());
    expect(box.open(box.seal('s3cret'))).toBe('s3cret');
    expect(box.openString(box.seal('s3cret'))).toBe('s3cret');
    const creds = { static: { accessKeyId: 'AKIA', secretAccessKey: 'x/y+z' } };
    expect(box.open(box.seal(creds))).toEqual(creds);
  });

  it('never produces the same ciphertext twice and never contains the plaintext', () => {
    const box = createSecretBox(key());
    const a = box.seal('hunter2-hunter2');
    expect(a).not.toBe(box.seal('hunter2-hunter2'));
    expect(a).not.toContain('hunter2');
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('fails clearly with another key instead of returning garbage', () => {
    const sealed = createSecretBox(key()).seal('s3cret');
    expect(() => createSecretBox(key()).open(sealed)).toThrow(DecryptionError);
    expect(() => createSecretBox(key()).open(sealed)).toThrow(/encryption key differs/);
  });

  it('rejects a value that was altered', () => {
    const box = createSecretBox(key());
    const sealed = box.seal('s3cret');
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow(DecryptionError);
    expect(() => box.open('not-sealed')).toThrow(DecryptionError);
  });

  it('binds a value to its context, so it does not open in another row or column', () => {
    const box = createSecretBox(key());
    const sealed = box.seal('s3cret', 'clusters/a/external_id');
    expect(box.open(sealed, 'clusters/a/external_id')).toBe('s3cret');
    expect(() => box.open(sealed, 'clusters/b/external_id')).toThrow(DecryptionError);
    expect(() => box.open(sealed)).toThrow(DecryptionError);
  });

  it('accepts base64 and base64url keys of exactly 32 bytes', () => {
    const raw = randomBytes(32);
    expect(() => createSecretBox(raw.toString('base64url'))).not.toThrow();
    expect(() => createSecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes.*got 16/);
    expect(() => createSecretBox('')).toThrow(EncryptionKeyError);
    expect(() => createSecretBox('not base64 at all!')).toThrow(/not base64/);
  });
});
