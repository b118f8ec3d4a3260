// The sync gauges of GET /metrics, read from a real Postgres on each scrape: runs per status, the
// last duration per cluster, and API and throttled calls per operation over the last 24 hours;
// and a scrape that still answers, with the last figures, while Postgres cannot.
import {
  completeSyncRun,
  enqueueSyncRun,
  failSyncRun,
  startSyncRun,
  type SyncReportInput,
} from '@eks-access/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

type Calls = Record<string, { calls: number; throttled: number }>;

function report(calls: Calls): SyncReportInput {
  const apiCalls = Object.fromEntries(
    Object.entries(calls).map(([op, c]) => [
      op,
      { ...c, retries: c.throttled, failed: 0, totalMs: 10 * c.calls },
    ]),
  );
  const totalApiCalls = Object.values(calls).reduce((n, c) => n + c.calls, 0);
  return {
    status: 'complete',
    counts: { resources: {}, entitlements: {}, grants: {} },
    apiCalls,
    totalApiCalls,
    sources: {},
    sourceDurationsMs: {},
    warnings: [],
  };
}

async function registerCluster(name: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: { authorization: `Bearer ${t.keys.admin}` },
    payload: { name, region: 'us-east-1' },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

/** A run of `clusterId` that succeeded with these API calls, having taken `seconds` and finished `finishedAgo` ago. */
async function succeededRun(
  clusterId: string,
  calls: Calls,
  seconds: number,
  finishedAgo = '1 minute',
): Promise<string> {
  const { run } = await enqueueSyncRun(t.database, clusterId, 'api');
  await startSyncRun(t.database, run.id, 'test');
  await completeSyncRun(t.database, run.id, {
    report: report(calls),
    snapshot: { resources: () => [], entitlements: () => [], grants: () => [] },
  });
  await setTimes(run.id, seconds, finishedAgo);
  return run.id;
}

async function setTimes(runId: string, seconds: number, finishedAgo: string): Promise<void> {
  await t.database.pool.query(
    `UPDATE sync_runs SET finished_at = now() - $2::interval, started_at = now() - $2::interval - make_interval(secs => $3) WHERE id = $1`,
    [runId, finishedAgo, seconds],
  );
}

async function scrape(): Promise<string> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** The value of one sample of the Prometheus text, or undefined when the series is absent. */
function sample(body: string, name: string, labels: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('sync gauges on /metrics', () => {
  let east: string;
  let west: string;

  beforeAll(async () => {
    east = await registerCluster('metrics-east');
    west = await registerCluster('metrics-west');
    // Two days old: outside the window, so none of it may show.
    await succeededRun(
      east,
      {
        'eks:ListAccessEntries': { calls: 1000, throttled: 500 },
        'iam:ListRoles': { calls: 7, throttled: 7 },
      },
      600,
      '2 days',
    );
    await succeededRun(
      east,
      { 'eks:ListAccessEntries': { calls: 4, throttled: 1 }, 'sts:AssumeRole': { calls: 1, throttled: 0 } },
      42.5,
    );
    await succeededRun(
      west,
      {
        'eks:ListAccessEntries': { calls: 6, throttled: 2 },
        'kube:list:namespaces': { calls: 2, throttled: 0 },
      },
      10,
      '10 minutes',
    );
    // The last run of west failed after 3 s; a failed run reports no API calls.
    const { run: failed } = await enqueueSyncRun(t.database, west, 'schedule');
    await startSyncRun(t.database, failed.id, 'test');
    await failSyncRun(t.database, failed.id, { code: 'ASSUME_ROLE_DENIED', message: 'denied' });
    await setTimes(failed.id, 3, '2 minutes');
    await enqueueSyncRun(t.database, east, 'api');
  });

  it('shows runs per status, the last duration per cluster, and API and throttled calls per operation of the last 24 h', async () => {
    const body = await scrape();
    expect(sample(body, 'eks_access_sync_runs', 'status="succeeded"')).toBe(2);
    expect(sample(body, 'eks_access_sync_runs', 'status="failed"')).toBe(1);
    expect(sample(body, 'eks_access_sync_runs', 'status="queued"')).toBe(1);
    expect(sample(body, 'eks_access_sync_runs', 'status="running"')).toBe(0);
    expect(sample(body, 'eks_access_sync_runs', 'status="partial"')).toBe(0);

    expect(
      sample(
        body,
        'eks_access_sync_duration_seconds',
        'cluster="metrics-east",region="us-east-1",account=""',
      ),
    ).toBe(42.5);
    expect(
      sample(
        body,
        'eks_access_sync_duration_seconds',
        'cluster="metrics-west",region="us-east-1",account=""',
      ),
    ).toBe(3);

    expect(sample(body, 'eks_access_sync_api_calls', 'operation="eks:ListAccessEntries"')).toBe(10);
    expect(sample(body, 'eks_access_sync_throttled_calls', 'operation="eks:ListAccessEntries"')).toBe(3);
    expect(sample(body, 'eks_access_sync_api_calls', 'operation="sts:AssumeRole"')).toBe(1);
    expect(sample(body, 'eks_access_sync_throttled_calls', 'operation="sts:AssumeRole"')).toBe(0);
    expect(sample(body, 'eks_access_sync_api_calls', 'operation="kube:list:namespaces"')).toBe(2);
    expect(sample(body, 'eks_access_sync_api_calls', 'operation="iam:ListRoles"')).toBeUndefined();
  });

  it('answers within the scrape timeout with the last figures while Postgres is stuck, and catches up afterwards', async () => {
    const blocker = await t.database.pool.connect();
    let started = 0;
    try {
      // An exclusive lock makes every read of sync_runs wait: Postgres is up but does not answer.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE sync_runs IN ACCESS EXCLUSIVE MODE');
      started = performance.now();
      const body = await scrape();
      expect(performance.now() - started).toBeLessThan(5000);
      expect(sample(body, 'eks_access_sync_api_calls', 'operation="eks:ListAccessEntries"')).toBe(10);
      expect(sample(body, 'eks_access_sync_runs', 'status="succeeded"')).toBe(2);
      expect(body).toMatch(/eks_access_queue_jobs\{queue="eks-sync",state="waiting"\}/);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }

    await succeededRun(west, { 'eks:ListAccessEntries': { calls: 5, throttled: 0 } }, 8);
    let latest: number | undefined;
    for (let tries = 0; tries < 20 && latest !== 15; tries++) {
      latest = sample(await scrape(), 'eks_access_sync_api_calls', 'operation="eks:ListAccessEntries"');
      if (latest !== 15) await new Promise((r) => setTimeout(r, 200));
    }
    expect(latest).toBe(15);
  });
});
