// What a client that sends bad input gets, over real Postgres and Redis: authentication before any
// validation, text Postgres cannot store refused by name, unknown fields refused, forged cursors
// and bad cron patterns refused before anything is written; a 4xx in the envelope, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './test-app.js';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
/** A cursor forged the way the db package encodes its own. */
const forgeCursor = (payload: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
type ErrorBody = {
  error: { code: string; message: string; requestId: string; details?: { path: string; message: string }[] };
};
const cluster = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  region: 'eu-west-1',
  ...extra,
});

describe('bad input', () => {
  it('answers an unauthenticated request with a bad body 401, telling it nothing about the schema', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      payload: { name: 42, nope: true },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json<ErrorBody>().error.code).toBe('UNAUTHENTICATED');
    expect(res.body).not.toContain('name');
  });

  it('refuses NUL characters and lone surrogates in queries, paths and bodies, naming the field', async () => {
    const cases: { method: 'GET' | 'POST'; url: string; payload?: Record<string, unknown>; field: string }[] =
      [
        { method: 'GET', url: '/v1/clusters?region=eu%00west', field: 'query.region' },
        { method: 'GET', url: '/v1/provisioning-requests?principalArn=arn%00', field: 'query.principalArn' },
        {
          method: 'GET',
          url: `/v1/principals/${encodeURIComponent('arn:aws:iam::111111111111:role/a\u0000b')}/access`,
          field: 'params.arn',
        },
        {
          method: 'POST',
          url: '/v1/clusters',
          payload: cluster('nul-label', { labels: { team: 'a\u0000b' } }),
          field: 'body.labels.team',
        },
        {
          method: 'POST',
          url: '/v1/clusters',
          payload: JSON.parse('{"name":"surrogate","region":"eu-west-1","labels":{"team":"\\ud800"}}'),
          field: 'body.labels.team',
        },
      ];
    for (const c of cases) {
      const res = await t.app.inject({
        method: c.method,
        url: c.url,
        headers: auth(t.keys.admin),
        ...(c.payload === undefined ? {} : { payload: c.payload }),
      });
      expect(res.statusCode, c.url).toBe(400);
      const body = res.json<ErrorBody>();
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.message).toContain(c.field);
    }
    const listed = (
      await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth(t.keys.read) })
    ).json<{ items: unknown[] }>();
    expect(listed.items).toEqual([]);
  });

  it('refuses an unknown nested field by name instead of dropping it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: auth(t.keys.admin),
      payload: cluster('with-token', {
        accessKey: {
          accessKeyId: 'AKIAEXAMPLE000000001',
          secretAccessKey: 'secretsecretsecret0001',
          sessionToken: 'x',
        },
      }),
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json<ErrorBody>().error)).toContain('sessionToken');
  });

  it('refuses a cron pattern that cannot run before saving anything, on create and on update', async () => {
    for (const cron of ['61 * * * *', '0 0 31 2 *', 'every day at noon']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/clusters',
        headers: auth(t.keys.admin),
        payload: cluster('cron-bad', { schedule: { cron } }),
      });
      expect(res.statusCode, cron).toBe(400);
      expect(
        res
          .json<ErrorBody>()
          .error.details?.map((d) => d.path)
          .join(),
      ).toContain('cron');
    }
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: auth(t.keys.admin),
      payload: cluster('cron-bad', { schedule: { cron: '*/30 * * * *' } }),
    });
    expect(ok.statusCode).toBe(201);
    const id = ok.json<{ id: string }>().id;
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${id}`,
      headers: auth(t.keys.admin),
      payload: { schedule: { cron: '0 0 30 2 *' }, enabled: false },
    });
    expect(patched.statusCode).toBe(400);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/clusters/${id}`, headers: auth(t.keys.read) })).json(),
    ).toMatchObject({ enabled: true });
  });

  it('refuses forged cursors with impossible dates as INVALID_CURSOR', async () => {
    for (const c of ['2024-02-31T00:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
      const cursor = forgeCursor({ c, i: '00000000-0000-4000-8000-000000000000' });
      for (const url of [
        `/v1/clusters?cursor=${cursor}`,
        `/v1/provisioning-requests?cursor=${cursor}`,
        `/v1/uploads?cursor=${cursor}`,
      ]) {
        const res = await t.app.inject({ method: 'GET', url, headers: auth(t.keys.read) });
        expect(res.statusCode, `${url} ${c}`).toBe(400);
        expect(res.json<ErrorBody>().error.code).toBe('INVALID_CURSOR');
      }
    }
  });
});
