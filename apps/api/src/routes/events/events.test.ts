// GET /v1/events and the server-sent-events stream over real Postgres and real HTTP: the events a
// full sync logs (its difference to the snapshot before), filters, cursors that resume exactly, and
// a live stream woken by Postgres' announcement that resumes from Last-Event-ID.
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  completeSyncRun,
  enqueueSyncRun,
  listenForChanges,
  startSyncRun,
  type ChangeListener,
} from '@eks-access/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
let base: string;
let listener: ChangeListener;

beforeAll(async () => {
  t = await startTestApi();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  // As the API process does: Postgres' announcement rings the streams' bell.
  listener = listenForChanges({
    url: t.database.url,
    onChange: (c) => c.kind === 'events' && t.deps.eventBell.ring(),
    onState: (up) => up && connected(),
  });
  await ready;
});
afterAll(async () => {
  await listener.close();
  await t.close();
});

const auth = () => ({ authorization: `Bearer ${t.keys.read}` });
const ACCOUNT = '111111111111';
const arn = (user: string) => `arn:aws:iam::${ACCOUNT}:user/${user}`;

function viewGrant(user: string) {
  const entitlementId = 'cluster_role:view:all:member';
  return {
    id: `${entitlementId}:iam_user:${arn(user)}`,
    entitlementId,
    resource: { type: 'cluster_role', id: 'view' },
    principal: { type: 'iam_user', id: arn(user) },
    annotations: [],
  };
}

async function registerCluster(name: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: { authorization: `Bearer ${t.keys.admin}` },
    payload: { name, region: 'eu-west-1' },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

/** A full sync of `clusterId` whose snapshot holds exactly the view grants of `users`. */
async function syncWith(clusterId: string, users: string[]): Promise<void> {
  const { run } = await enqueueSyncRun(t.database, clusterId, 'api');
  await startSyncRun(t.database, run.id, 'test');
  await completeSyncRun(t.database, run.id, {
    report: {
      status: 'complete',
      counts: { resources: {}, entitlements: {}, grants: {} },
      apiCalls: {},
      totalApiCalls: 0,
      sources: {},
      sourceDurationsMs: {},
      warnings: [],
    },
    snapshot: {
      resources: () => [
        { type: 'cluster_role', id: 'view', displayName: 'view', profile: {}, annotations: [] },
      ],
      entitlements: () => [
        {
          id: 'cluster_role:view:all:member',
          resource: { type: 'cluster_role', id: 'view' },
          slug: 'all:member',
          displayName: 'view',
          description: 'view',
          purpose: 'assignment' as const,
          grantableTo: ['iam_user'],
        },
      ],
      grants: () => users.map(viewGrant),
    },
  });
}

interface EventPage {
  items: {
    id: string;
    kind: string;
    source: string;
    principal: { id: string } | null;
    grantId: string | null;
  }[];
  cursor: string | null;
  hasMore: boolean;
}

async function events(query: string): Promise<EventPage> {
  const res = await t.app.inject({ method: 'GET', url: `/v1/events?${query}`, headers: auth() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<EventPage>();
}

describe('GET /v1/events', () => {
  it('lists what syncs changed after a cursor, filtered by cluster, principal and kind', async () => {
    const clusterId = await registerCluster('events-list');
    await syncWith(clusterId, ['alice', 'bob']); // the first snapshot is the inventory, not a change
    await syncWith(clusterId, ['bob', 'carol', 'dave']);
    await syncWith(clusterId, ['carol']);
    const all = await events(`clusterId=${clusterId}&kind=grant,revoke`);
    expect(all.items.map((e) => `${e.kind} ${e.principal!.id.split('/')[1]}`)).toEqual([
      'revoke alice',
      'grant carol',
      'grant dave',
      'revoke bob',
      'revoke dave',
    ]);
    expect(all.items.every((e) => e.source === 'sync')).toBe(true);
    // Two at a time, resuming by cursor: the same events, none twice.
    const paged: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await events(
        `clusterId=${clusterId}&kind=grant,revoke&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      paged.push(...page.items.map((e) => e.id));
      if (!page.hasMore) break;
      cursor = page.cursor!;
    }
    expect(paged).toEqual(all.items.map((e) => e.id));
    const dave = await events(`clusterId=${clusterId}&principalArn=${encodeURIComponent(arn('dave'))}`);
    expect(dave.items.map((e) => e.kind)).toEqual(['grant', 'revoke']);
  });

  it('refuses a cursor that is not an event id and an unknown kind, naming the parameter', async () => {
    const bad = await t.app.inject({ method: 'GET', url: '/v1/events?cursor=abc', headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toMatch(/cursor/);
    const kind = await t.app.inject({ method: 'GET', url: '/v1/events?kind=grant,nope', headers: auth() });
    expect(kind.statusCode).toBe(400);
    expect(kind.body).toMatch(/unknown kind \\"nope\\"/);
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/events' });
    expect(anonymous.statusCode).toBe(401);
  });
});

/** Reads an SSE stream into parsed events. */
function openStream(path: string, headers: Record<string, string> = {}) {
  const received: { id: string; event: string; data: { kind: string; principal: { id: string } | null } }[] =
    [];
  let buffered = '';
  let res!: IncomingMessage;
  const waiters: { n: number; resolve: () => void }[] = [];
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { headers: { ...auth(), accept: 'text/event-stream', ...headers } },
      (r) => {
        res = r;
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          buffered += chunk;
          let sep: number;
          while ((sep = buffered.indexOf('\n\n')) >= 0) {
            const block = buffered.slice(0, sep);
            buffered = buffered.slice(sep + 2);
            const fields = Object.fromEntries(
              block
                .split('\n')
                .filter((l) => l !== '' && !l.startsWith(':'))
                .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
            ) as Record<string, string>;
            if (fields.data !== undefined)
              received.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) as never });
          }
          for (const w of [...waiters]) {
            if (received.length < w.n) continue;
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        });
        resolve(r);
      },
    );
    req.on('error', reject);
    req.end();
  });
  return {
    opened,
    received,
    atLeast: (n: number) =>
      received.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () => res?.destroy(),
  };
}

describe('GET /v1/events/stream', () => {
  it('sends each change as it commits, and resumes after Last-Event-ID', async () => {
    const clusterId = await registerCluster('events-stream');
    await syncWith(clusterId, ['erin']);
    const stream = openStream(`/v1/events/stream?clusterId=${clusterId}&kind=grant,revoke`);
    const res = await stream.opened;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    // Without a cursor the stream starts now: the first sync's inventory is not replayed.
    await syncWith(clusterId, ['erin', 'frank']);
    await stream.atLeast(1);
    expect(stream.received[0]).toMatchObject({
      event: 'grant',
      data: { kind: 'grant', principal: { id: arn('frank') } },
    });
    const lastId = stream.received[0]!.id;
    stream.close();

    // While nobody listens, erin loses access; a reconnect with Last-Event-ID gets exactly that.
    await syncWith(clusterId, ['frank']);
    const resumed = openStream(`/v1/events/stream?clusterId=${clusterId}&kind=grant,revoke`, {
      'last-event-id': lastId,
    });
    await resumed.atLeast(1);
    expect(resumed.received.map((e) => `${e.event} ${e.data.principal!.id}`)).toEqual([
      `revoke ${arn('erin')}`,
    ]);
    expect(Number(resumed.received[0]!.id)).toBeGreaterThan(Number(lastId));
    resumed.close();
  });
});
