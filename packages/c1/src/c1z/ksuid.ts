// KSUIDs, the sync ids baton-sdk writes to v1_sync_runs: 20 bytes (a 4-byte big-endian count of
// seconds since the KSUID epoch, then 16 random bytes) printed as 27 base62 characters, zero-padded,
// so that string order is time order.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 2014-05-13T16:53:20Z, in Unix seconds. */
const KSUID_EPOCH_SECONDS = 1_400_000_000;
const KSUID_LENGTH = 27;
const PAYLOAD_BYTES = 16;
const MAX_TIMESTAMP = 0xffffffff;
const KSUID_PATTERN = /^[0-9A-Za-z]{27}$/;
// The largest 20-byte value, printed in base62.
const MAX_KSUID = 'aWgEPTl1tmebfsQzFP4bxwgy80V';

/** A new KSUID for `at` (default now) with a random payload (or the 16 bytes given). */
export function newKsuid(at: Date = new Date(), payload: Uint8Array = randomBytes(PAYLOAD_BYTES)): string {
  if (payload.length !== PAYLOAD_BYTES) throw new RangeError(`KSUID payload must be ${PAYLOAD_BYTES} bytes`);
  const seconds = Math.floor(at.getTime() / 1000) - KSUID_EPOCH_SECONDS;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_TIMESTAMP) {
    throw new RangeError(`time ${at.toISOString()} is outside the KSUID range`);
  }
  let value = BigInt(seconds);
  for (const byte of payload) value = (value << 8n) | BigInt(byte);
  let text = '';
  while (value > 0n) {
    text = ALPHABET[Number(value % 62n)]! + text;
    value /= 62n;
  }
  return text.padStart(KSUID_LENGTH, '0');
}

/** True for a well-formed KSUID string. */
export function isKsuid(value: string): boolean {
  return KSUID_PATTERN.test(value) && value <= MAX_KSUID;
}

/** The time and payload of a KSUID; throws a RangeError for a malformed one. */
export function parseKsuid(value: string): { timestamp: Date; payload: Uint8Array } {
  if (!isKsuid(value)) throw new RangeError(`"${value}" is not a KSUID`);
  let number = 0n;
  for (const char of value) number = number * 62n + BigInt(ALPHABET.indexOf(char));
  const payload = new Uint8Array(PAYLOAD_BYTES);
  for (let i = PAYLOAD_BYTES - 1; i >= 0; i--) {
    payload[i] = Number(number & 0xffn);
    number >>= 8n;
  }
  return { timestamp: new Date((Number(number) + KSUID_EPOCH_SECONDS) * 1000), payload };
}
