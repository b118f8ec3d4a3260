import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, InvalidInputError } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../testing.js';
import { listAudit, recordAudit } from './audit.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
});
afterAll(async () => {
  await database?.drop();
});

const CLUSTER = '11111111-1111-4111-8111-111111111111';

describe('audit events', () => {
  it('drops secrets from before, after and details even when the caller forgot to', async () => {
    const event = await recordAudit(database.db, {
      actor: 'api-key:abc',
      action: 'cluster.update',
      clusterId: CLUSTER,
      target: `cluster:${CLUSTER}`,
      before: { name: 'a', externalId: 'old-ext', credentials: { static: { secretAccessKey: 'sk' } } },
      after: { name: 'b', externalId: 'new-ext', nested: [{ password: 'pw', keep: true }] },
      requestId: 'req-1',
      details: { token: 't', reason: 'rename' },
    });
    expect(event).toMatchObject({
      before: { name: 'a' },
      after: { name: 'b', nested: [{ keep: true }] },
      details: { reason: 'rename' },
      requestId: 'req-1',
    });
    const { rows } = await database.pool.query(
      'SELECT before, after, details FROM audit_events WHERE id = $1',
      [event.id],
    );
    expect(JSON.stringify(rows)).not.toMatch(/old-ext|new-ext|"sk"|"pw"|"t"/);
  });

  it('is written inside the caller transaction and rolled back with it', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await recordAudit(tx, { actor: 'system', action: 'test.rollback' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await listAudit(database, { action: 'test.rollback' })).items).toEqual([]);
  });

  it('lists newest first with filters and cursor pagination', async () => {
    for (let i = 0; i < 5; i++)
      await recordAudit(database.db, {
        actor: 'worker:host-1',
        action: 'sync.complete',
        clusterId: CLUSTER,
        details: { i },
      });
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAudit(
        database,
        { actor: 'worker:host-1' },
        { limit: 2, ...(cursor ? { cursor } : {}) },
      );
      seen.push(...page.items.map((e) => e.details));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => ({ i })));
    expect(
      (
        await listAudit(database, {
          clusterId: CLUSTER,
          action: 'sync.complete',
          since: new Date(Date.now() - 60_000),
        })
      ).items,
    ).toHaveLength(5);
    expect((await listAudit(database, { until: new Date(0) })).items).toEqual([]);
    await expect(listAudit(database, {}, { cursor: 'eyJpZCI6LTF9' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(listAudit(database, { clusterId: 'nope' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
