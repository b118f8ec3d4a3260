// Read cache for snapshot answers. A snapshot never changes once written; what changes is which
// snapshot is a cluster's current one, whether the cluster exists, and which old runs are pruned.
// Postgres announces each of those on commit (migration 0009, @eks-access/db `listenForChanges`),
// so an answer can be kept, as the exact bytes sent, until its cluster changes:
// - entries are tagged with the cluster they read (or `*` for answers over every cluster, such as
//   a principal's access), and a change of cluster X drops X's entries and every `*` entry;
// - every drop bumps a generation; an answer computed across a drop is not stored (it may have
//   read the state from before the change);
// - while the listener is not connected nothing is read from or stored in the cache, and each
//   (re)connect starts from empty, because announcements made meanwhile were lost;
// - size is bounded (bytes); the least recently used answers go first.
// Verified API keys are kept too (by sha256 of the key, never the key), for at most KEY_TTL_MS and
// until any key is revoked, rotated, re-scoped or deleted.
import { createHash } from 'node:crypto';
import type { Change } from '@eks-access/db';
import type { Caller } from './auth.js';

/** How long a verified key is trusted without asking Postgres (and so how often last-used is touched). */
export const KEY_TTL_MS = 60_000;

interface Entry {
  /** UTF-8 bytes: sending a Buffer skips encoding the same string again on every hit. */
  body: Buffer;
  tag: string;
  bytes: number;
}

interface KeyEntry {
  caller: Caller;
  until: number;
}

export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new Map<string, KeyEntry>();
  private bytes = 0;
  private live = false;
  /** Bumped by every drop; see the header. */
  generation = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether answers may be served from or stored in the cache. */
  get enabled(): boolean {
    return this.live && this.maxBytes > 0;
  }

  /** The listener's state: connected (start from empty) or lost (stop using the cache). */
  setLive(live: boolean): void {
    this.live = live;
    this.clear();
  }

  onChange(change: Change): void {
    // New change events alter no cached answer: the cluster's snapshot change announces itself.
    if (change.kind === 'events') return;
    if (change.kind === 'api_keys') {
      this.keyDrops++;
      this.keys.clear();
      return;
    }
    this.generation++;
    for (const [key, entry] of this.entries) {
      if (entry.tag === change.clusterId || entry.tag === '*') this.remove(key, entry);
    }
  }

  get(key: string): Buffer | undefined {
    if (!this.enabled) return undefined;
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    // Re-insert: Map order is the recency order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry.body;
  }

  /** Stores an answer computed since `generation` was read; ignored if anything changed meanwhile. */
  set(key: string, tag: string, body: Buffer, generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    const bytes = body.length + key.length;
    if (bytes > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    this.entries.set(key, { body, tag, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(k, e);
    }
  }

  /** A verified caller for this key, if one was cached and is still good. */
  caller(plaintext: string): Caller | undefined {
    if (!this.enabled) return undefined;
    const id = keyId(plaintext);
    const entry = this.keys.get(id);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.keys.delete(id);
      return undefined;
    }
    return entry.caller;
  }

  /** Remembers a verified caller until `expiresAt` (the key's own expiry) or KEY_TTL_MS, whichever is first. */
  rememberCaller(plaintext: string, caller: Caller, expiresAt: Date | null, generation: number): void {
    if (!this.enabled || generation !== this.keyGeneration) return;
    const until = Math.min(this.now() + KEY_TTL_MS, expiresAt ? expiresAt.getTime() : Infinity);
    this.keys.set(keyId(plaintext), { caller, until });
  }

  /** Like `generation`, for keys: read before verifying, passed to rememberCaller. */
  get keyGeneration(): number {
    return this.keyDrops;
  }

  private keyDrops = 0;

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private clear(): void {
    this.generation++;
    this.keyDrops++;
    this.entries.clear();
    this.keys.clear();
    this.bytes = 0;
  }

  get size(): { entries: number; bytes: number; keys: number } {
    return { entries: this.entries.size, bytes: this.bytes, keys: this.keys.size };
  }
}

function keyId(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('base64url');
}
