// Grant expansion as baton-sdk's syncer does it when C1 has not asked it to leave expansion to C1
// (pkg/sync/expand, v0.25.0), over the grants already written to the database.
// - A grant on entitlement D to a principal, with GrantExpandable{entitlement_ids: [S…]}, is an
//   edge S → D: whoever holds S (the principals of S's grants) also holds D.
// - For each holder of S a grant on D is created if the holder has none: id
//   `<D>:<principal type>:<principal id>`, D's whole entitlement, the source grant's principal, a
//   GrantImmutable annotation and sources {S: {is_direct}}, where is_direct says whether the
//   holder's grant on S is its own (no sources, or S among them) rather than derived.
// - A grant the holder already has on D gets sources {D: direct} (first time) plus {S: …}; a later
//   direct source upgrades an indirect one.
// - `shallow` edges pass on direct holders only; `resource_type_ids` keep holders of those types.
// - Edges whose source or destination entitlement is not in the file are dropped, as baton-sdk
//   drops them. Expansion runs to a fixed point, so chains and cycles (roles that can assume each
//   other) reach every holder; baton-sdk condenses cycles first, which gives the same holders.
// - The expandable grants keep their `expansion` column and needs_expansion flag, as baton-sdk
//   leaves them.
import protobuf from 'protobufjs';
import type Database from 'better-sqlite3';
import { decodeGrantExpandable } from './messages.js';
import { c1zTypes, typeUrlOf } from './proto.js';
import { compareUtf8 } from './struct.js';

interface Edge {
  source: string;
  destination: string;
  shallow: boolean;
  principalTypes: ReadonlySet<string> | undefined;
}

interface Holding {
  principalType: string;
  principalId: string;
  /** Entitlement id → is_direct; empty for a grant of the principal's own. */
  sources: Map<string, boolean>;
  /** Row of an existing grant; undefined for one expansion creates. */
  rowId: number | undefined;
  /** Row of a stored grant whose principal message a created grant copies. */
  principalRow: number;
  changed: boolean;
}

export interface ExpansionResult {
  /** Grants created for holders of a source entitlement. */
  created: number;
  /** Existing grants that gained sources. */
  updated: number;
}

const holderKey = (type: string, id: string) => `${type}\0${id}`;

/** The bytes of the first length-delimited field `field` in a message, or undefined. */
function fieldBytes(message: Uint8Array, field: number): Uint8Array | undefined {
  const reader = protobuf.Reader.create(message);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) return reader.bytes();
    reader.skipType(tag & 7);
  }
  return undefined;
}

/** Serialized GrantSources, entries sorted by key as Go's deterministic marshalling writes a map. */
function encodeSources(sources: Map<string, boolean>): Uint8Array {
  const entries = [...sources.entries()]
    .sort(([a], [b]) => compareUtf8(a, b))
    .map(([key, isDirect]) => ({ key, value: isDirect ? { isDirect: true } : {} }));
  return c1zTypes().root.lookupType('c1.connector.v2.GrantSources').encode({ sources: entries }).finish();
}

const GRANT_SOURCES_TAG = (5 << 3) | 2;

/** Expands the grants of `syncId` in `db` in place, in one transaction; `discoveredAt` stamps the created rows. */
export function expandGrants(db: Database.Database, syncId: string, discoveredAt: string): ExpansionResult {
  const edges = readEdges(db, syncId);
  if (edges.length === 0) return { created: 0, updated: 0 };
  const nodes = new Set(edges.flatMap((e) => [e.source, e.destination]));
  const holdings = new Map<string, Map<string, Holding>>();
  const grantsOf = db.prepare<[string, string], { id: number; type: string; pid: string }>(
    `select id, principal_resource_type_id as type, principal_resource_id as pid from v1_grants
     where entitlement_id = ? and sync_id = ?`,
  );
  for (const node of nodes) {
    const map = new Map<string, Holding>();
    for (const row of grantsOf.iterate(node, syncId)) {
      map.set(holderKey(row.type, row.pid), {
        principalType: row.type,
        principalId: row.pid,
        sources: new Map(),
        rowId: row.id,
        principalRow: row.id,
        changed: false,
      });
    }
    holdings.set(node, map);
  }

  const outgoing = new Map<string, Edge[]>();
  for (const edge of edges) outgoing.set(edge.source, [...(outgoing.get(edge.source) ?? []), edge]);
  const queue = [...edges];
  const queued = new Set(queue);
  for (let edge = queue.shift(); edge !== undefined; edge = queue.shift()) {
    queued.delete(edge);
    if (!apply(edge, holdings)) continue;
    for (const next of outgoing.get(edge.destination) ?? []) {
      if (!queued.has(next)) {
        queued.add(next);
        queue.push(next);
      }
    }
  }
  return write(db, syncId, discoveredAt, holdings);
}

function readEdges(db: Database.Database, syncId: string): Edge[] {
  const exists = db.prepare<[string, string], { found: number }>(
    'select 1 as found from v1_entitlements where external_id = ? and sync_id = ?',
  );
  const known = new Map<string, boolean>();
  const isKnown = (id: string) => {
    let found = known.get(id);
    if (found === undefined) {
      found = exists.get(id, syncId) !== undefined;
      known.set(id, found);
    }
    return found;
  };
  const byKey = new Map<string, Edge>();
  const rows = db
    .prepare<[string], { entitlementId: string; expansion: Uint8Array }>(
      `select entitlement_id as entitlementId, expansion from v1_grants
       where sync_id = ? and expansion is not null`,
    )
    .iterate(syncId);
  for (const row of rows) {
    const expandable = decodeGrantExpandable(row.expansion);
    for (const source of expandable.entitlementIds) {
      const key = `${source}\0${row.entitlementId}`;
      if (source.trim() === '' || source === row.entitlementId || byKey.has(key)) continue;
      if (!isKnown(source) || !isKnown(row.entitlementId)) continue;
      byKey.set(key, {
        source,
        destination: row.entitlementId,
        shallow: expandable.shallow,
        principalTypes:
          expandable.resourceTypeIds.length > 0 ? new Set(expandable.resourceTypeIds) : undefined,
      });
    }
  }
  return [...byKey.values()];
}

/** Passes the holders of the edge's source on to its destination; true when anything changed. */
function apply(edge: Edge, holdings: Map<string, Map<string, Holding>>): boolean {
  const from = holdings.get(edge.source);
  const to = holdings.get(edge.destination);
  if (!from || !to) return false;
  let changed = false;
  for (const [key, held] of from) {
    if (edge.principalTypes && !edge.principalTypes.has(held.principalType)) continue;
    const isDirect = held.sources.size === 0 || held.sources.has(edge.source);
    if (edge.shallow && !isDirect) continue;
    const existing = to.get(key);
    if (!existing) {
      to.set(key, {
        principalType: held.principalType,
        principalId: held.principalId,
        sources: new Map([[edge.source, isDirect]]),
        rowId: undefined,
        principalRow: held.principalRow,
        changed: true,
      });
      changed = true;
      continue;
    }
    let updated = false;
    if (existing.sources.size === 0) {
      existing.sources.set(edge.destination, true);
      updated = true;
    }
    const known = existing.sources.get(edge.source);
    if (known === undefined || (isDirect && !known)) {
      existing.sources.set(edge.source, isDirect);
      updated = true;
    }
    if (updated) {
      existing.changed = true;
      changed = true;
    }
  }
  return changed;
}

function write(
  db: Database.Database,
  syncId: string,
  discoveredAt: string,
  holdings: Map<string, Map<string, Holding>>,
): ExpansionResult {
  const types = c1zTypes();
  // anypb.New(&GrantImmutable{}): a type URL and an empty value, which proto3 leaves out.
  const immutable = types.Any.encode({ typeUrl: typeUrlOf('c1.connector.v2.GrantImmutable') }).finish();
  const entitlementRow = db.prepare<
    [string, string],
    { resourceTypeId: string; resourceId: string; data: Uint8Array }
  >(
    `select resource_type_id as resourceTypeId, resource_id as resourceId, data from v1_entitlements
     where external_id = ? and sync_id = ?`,
  );
  const grantData = db.prepare<[number], { data: Uint8Array }>('select data from v1_grants where id = ?');
  const update = db.prepare<[Uint8Array, number]>('update v1_grants set data = ? where id = ?');
  const insert = db.prepare(
    `insert into v1_grants (resource_type_id, resource_id, entitlement_id, principal_resource_type_id,
       principal_resource_id, external_id, expansion, needs_expansion, data, sync_id, discovered_at)
     values (?, ?, ?, ?, ?, ?, null, 0, ?, ?, ?)
     on conflict (external_id, sync_id) do update set data = excluded.data`,
  );
  let created = 0;
  let updated = 0;
  db.exec('begin');
  for (const [entitlementId, holders] of holdings) {
    const entitlement = entitlementRow.get(entitlementId, syncId);
    for (const held of holders.values()) {
      if (!held.changed) continue;
      const sources = encodeSources(held.sources);
      if (held.rowId !== undefined) {
        const stored = grantData.get(held.rowId)?.data ?? new Uint8Array();
        // Stored grants hold fields 1–4; field 5 after them keeps the encoding canonical.
        const writer = protobuf.Writer.create();
        writer.uint32(GRANT_SOURCES_TAG).bytes(sources);
        update.run(Buffer.concat([stored, writer.finish()]), held.rowId);
        updated++;
        continue;
      }
      if (!entitlement) continue;
      const principal = fieldBytes(grantData.get(held.principalRow)?.data ?? new Uint8Array(), 2);
      const id = `${entitlementId}:${held.principalType}:${held.principalId}`;
      const writer = protobuf.Writer.create();
      writer.uint32((1 << 3) | 2).bytes(entitlement.data);
      if (principal) writer.uint32((2 << 3) | 2).bytes(principal);
      writer.uint32((3 << 3) | 2).string(id);
      writer.uint32((4 << 3) | 2).bytes(immutable);
      writer.uint32(GRANT_SOURCES_TAG).bytes(sources);
      insert.run(
        entitlement.resourceTypeId,
        entitlement.resourceId,
        entitlementId,
        held.principalType,
        held.principalId,
        id,
        writer.finish(),
        syncId,
        discoveredAt,
      );
      created++;
    }
  }
  db.exec('commit');
  return { created, updated };
}
