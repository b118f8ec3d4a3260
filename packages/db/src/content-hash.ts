// The content hash of a snapshot, so a sync that found nothing new can be told apart from one that
// did without comparing rows: equal hashes mean equal snapshots, whatever order the rows came in.
//
// A row is hashed from its COPY line (its values without the run id, JSON keys sorted: see copy.ts),
// so the hash covers exactly what the tables store. A table's row digests are sorted and hashed
// together with the table's name and row count; the snapshot's hash covers its three table hashes.
// Sorting the digests, rather than adding or XOR-ing them, keeps the combination as strong as
// SHA-256 itself: whoever controls a cluster's RBAC objects could craft rows whose digests cancel
// out in a sum, and so hide a change. The price is memory while a table streams: one 32-character
// string per row (about 35 MB for the 700,000 entitlements of the benchmark snapshot).
import { createHash, hash } from 'node:crypto';

/** The snapshot tables, by the name the sync run columns use (`resources_hash`, `resources_run_id`). */
export const SNAPSHOT_PARTS = ['resources', 'entitlements', 'grants'] as const;
export type SnapshotPart = (typeof SNAPSHOT_PARTS)[number];

// Part of every hash, so a change to what is hashed (or how) can never match an older hash.
const VERSION = 'eks-access snapshot content v1';
// Digests hashed per update call; one call per digest costs more than the hashing.
const BATCH = 4096;

export interface TableHasher {
  /** Adds one row, given as its encoded COPY line. */
  add(line: string): void;
  /** Hex SHA-256 of the rows added so far, in any order. */
  digest(): string;
}

/** Hashes the rows of one table of one snapshot. */
export function createTableHasher(part: SnapshotPart): TableHasher {
  // 'binary' (latin1) gives one character per digest byte, so the default string sort is byte order.
  const digests: string[] = [];
  return {
    add(line) {
      digests.push(hash('sha256', line, 'binary'));
    },
    digest() {
      digests.sort();
      const h = createHash('sha256').update(`${VERSION}\n${part}\n${digests.length}\n`);
      for (let i = 0; i < digests.length; i += BATCH)
        h.update(digests.slice(i, i + BATCH).join(''), 'latin1');
      return h.digest('hex');
    },
  };
}

/** The hash of a whole snapshot from the hashes of its three tables. */
export function snapshotHash(parts: Record<SnapshotPart, string>): string {
  return createHash('sha256')
    .update(`${VERSION}\n${SNAPSHOT_PARTS.map((p) => `${p}:${parts[p]}`).join('\n')}`)
    .digest('hex');
}
