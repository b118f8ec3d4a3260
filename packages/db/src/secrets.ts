// Secrets at rest (static AWS keys, ExternalIds, C1 client secrets) are sealed with AES-256-GCM.
// GCM authenticates as well as encrypts, so a wrong key or an altered value fails loudly instead of
// decrypting to garbage. A sealed value is `v1.<iv>.<tag>.<ciphertext>` (base64url parts); the
// version leaves room for key rotation. The optional `context` is bound as additional
// authenticated data (e.g. `clusters/<id>/credentials`), so a sealed value copied to another row
// or column does not open there.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, EncryptionKeyError } from './errors.js';

export interface SecretBox {
  /** Encrypts a string or a JSON-serialisable object. */
  seal(value: string | object, context?: string): string;
  /** Decrypts a sealed value back to what was sealed (a string or the parsed object). */
  open(sealed: string, context?: string): unknown;
  /** Like open, but the sealed value must have been a string. */
  openString(sealed: string, context?: string): string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes and checks a base64 (or base64url) 32-byte key; throws EncryptionKeyError otherwise. */
export function parseEncryptionKey(keyBase64: string): Buffer {
  const trimmed = keyBase64.trim();
  if (trimmed === '')
    throw new EncryptionKeyError('the encryption key is empty; generate one with `openssl rand -base64 32`');
  let key: Buffer;
  if (BASE64.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  else if (BASE64URL.test(trimmed)) key = Buffer.from(trimmed, 'base64url');
  else
    throw new EncryptionKeyError(
      'the encryption key is not base64; generate one with `openssl rand -base64 32`',
    );
  if (key.length !== 32) {
    throw new EncryptionKeyError(
      `the encryption key must decode to 32 bytes for AES-256-GCM, got ${key.length}; generate one with \`openssl rand -base64 32\``,
    );
  }
  return key;
}

/** Creates the AES-256-GCM secret box for a base64 32-byte key. */
export function createSecretBox(keyBase64: string): SecretBox {
  const key = parseEncryptionKey(keyBase64);

  function open(sealed: string, context?: string): unknown {
    const parts = sealed.split('.');
    const [version, ivText, tagText, dataText] = parts;
    if (parts.length !== 4 || version !== VERSION || !ivText || !tagText || dataText === undefined) {
      throw new DecryptionError('the stored secret is not a sealed value of this application');
    }
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new DecryptionError('the stored secret is not a sealed value of this application');
    }
    let plain: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch (err) {
      throw new DecryptionError(
        'could not decrypt a stored secret: the encryption key differs from the one it was sealed with, or the value was altered',
        { cause: err },
      );
    }
    return JSON.parse(plain) as unknown;
  }

  return {
    seal(value, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
      // Always JSON, so open() can tell a sealed string from a sealed object.
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return [
        VERSION,
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        data.toString('base64url'),
      ].join('.');
    },
    open,
    openString(sealed, context) {
      const value = open(sealed, context);
      if (typeof value !== 'string') throw new DecryptionError('the stored secret is not a string');
      return value;
    },
  };
}
