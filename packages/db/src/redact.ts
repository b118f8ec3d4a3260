// Audit events keep a before/after of what changed; secrets must never land there. Callers pass
// redacted objects, and recordAudit runs redact() again as a second line of defence.

// Compared after lower-casing and dropping `_` and `-`, so `secret_access_key`, `secretAccessKey`
// and `SECRET-ACCESS-KEY` all match.
const SECRET_KEY_PARTS = [
  'secret',
  'password',
  'passwd',
  'token',
  'accesskey',
  'externalid',
  'credential',
  'privatekey',
  'apikey',
];

/** True for an object key whose value is to be dropped from logs and audit events. */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_PARTS.some((part) => k.includes(part)) || k.endsWith('enc');
}

/** A deep copy of `value` without keys named like secrets (secret, password, token, accessKey, externalId...). */
export function redact<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // A boolean such as `hasCredentials` says whether a secret is set, never what it is.
    if (!isSecretKey(key) || typeof v === 'boolean') out[key] = redactValue(v, depth + 1);
  }
  return out;
}
