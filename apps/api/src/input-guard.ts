// Strings Postgres cannot store, refused at the door. A NUL character is rejected by every text and
// jsonb column and a lone UTF-16 surrogate by jsonb (and is not valid UTF-8 anywhere), so either
// one reaching a query would be a driver error, which the API could only answer with a 500. The
// guard runs on the parsed parameters, query and body of every route before schema validation,
// and names the first offending field.
import { ApiError } from './errors.js';

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with `value` as text Postgres can store, or undefined when nothing is. */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate, which is not valid Unicode text';
  return undefined;
}

function findUnstorable(
  value: unknown,
  path: string,
  depth: number,
): { path: string; problem: string } | undefined {
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    return problem ? { path, problem } : undefined;
  }
  // Deeper than any body we accept; the schema refuses it with its own message.
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const innerPath = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    const keyProblem = unstorableText(key);
    if (keyProblem) return { path: innerPath, problem: `has a key that ${keyProblem}` };
    const found = findUnstorable(inner, innerPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Throws VALIDATION_FAILED naming the first field of the request that Postgres could not store. */
export function assertStorableInput(parts: { params?: unknown; query?: unknown; body?: unknown }): void {
  for (const [part, value] of Object.entries(parts)) {
    const found = findUnstorable(value, part, 0);
    if (found) {
      throw new ApiError('VALIDATION_FAILED', `${found.path} ${found.problem}`, [
        { path: found.path, message: found.problem },
      ]);
    }
  }
}
