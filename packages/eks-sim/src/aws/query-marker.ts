// IAM list pagination. A Marker names the sort key of the last item returned rather than an offset,
// so a page continues after that item even when entries are added or removed between calls: nothing
// already listed repeats, nothing that existed throughout is skipped. The key is sealed with an HMAC
// under a per-process secret so a garbled or hand-edited marker is refused instead of silently
// restarting the listing (a client echoing it back would otherwise loop forever); like AWS's own
// markers, one does not survive a restart of the simulator.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { validationError } from './query-params.js';

const SECRET = randomBytes(32);

function seal(body: string): string {
  return createHmac('sha256', SECRET).update(body).digest('base64url').slice(0, 22);
}

/** An opaque marker resuming the listing `scope` (operation and account) after the item with sort key `key`. */
export function encodeMarker(scope: string, key: string): string {
  const body = Buffer.from(JSON.stringify({ s: scope, k: key }), 'utf8').toString('base64url');
  return `${body}.${seal(body)}`;
}

/** The sort key a marker resumes after; a marker not issued for `scope` is a ValidationError. */
export function decodeMarker(marker: string, scope: string): string {
  const invalid = validationError('Invalid Marker.');
  const dot = marker.lastIndexOf('.');
  if (dot <= 0) throw invalid;
  const body = marker.slice(0, dot);
  const given = Buffer.from(marker.slice(dot + 1), 'utf8');
  const expected = Buffer.from(seal(body), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { s, k } = (parsed ?? {}) as { s?: unknown; k?: unknown };
  if (s !== scope || typeof k !== 'string') throw invalid;
  return k;
}

export interface Page<T> {
  items: T[];
  /** Sort key of the last item, present only when more items follow. */
  nextKey?: string;
}

/**
 * One page of `items` (sorted ascending by `keyOf`, keys unique) starting after the key `after`.
 * Keys compare as JavaScript strings, the order the world sorts its listings in.
 */
export function pageAfter<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  after: string | undefined,
  maxItems: number,
): Page<T> {
  let lo = 0;
  if (after !== undefined) {
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(items[mid]!) <= after) lo = mid + 1;
      else hi = mid;
    }
  }
  const page = items.slice(lo, lo + maxItems);
  const last = page.at(-1);
  return lo + page.length < items.length && last !== undefined
    ? { items: page, nextKey: keyOf(last) }
    : { items: page };
}
