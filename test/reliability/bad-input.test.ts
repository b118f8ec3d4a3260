// Malformed input against the API process, over a raw socket so every byte is the test's: for every
// route of /openapi.json, NUL bytes and lone surrogates in each path, query and body field, forged
// cursors (impossible dates, NULs), unknown fields, a bad cron pattern, impossible dates, huge and
// deeply nested bodies, bad JSON, oversized headers and malformed URLs, with and without a key.
// No answer may be a 500, and every error must be the documented envelope. Then API keys: a key
// revoked (or rotated) through one API process is refused by the other on its next request.
import { connect } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_URL,
  REDIS_URL,
  apiReady,
  checkAnswer,
  exited,
  freePort,
  randomId,
  until,
} from '../e2e/support.js';
import { report, startProduct, unstructuredLines, type ProductProcess } from './support.js';

const KEY = `rel-${randomId(16)}`;
const prefix = `relb-${randomId()}`;
let database: TestDatabase;
const processes: ProductProcess[] = [];
const ports: number[] = [];

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends exactly these bytes as one HTTP/1.1 request and reads the answer until the server closes. */
function raw(port: number, head: string, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer within 30 s')));
    socket.on('data', (c) => {
      chunks.push(c);
      // An event stream (GET /v1/events/stream) that the server accepted never ends by itself:
      // its head is the answer, so the test hangs up once the head is in.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && /\r\ncontent-type: *text\/event-stream/i.test(text.slice(0, end))) socket.destroy();
    });
    // The server may answer and close before it has read everything (a body or headers too
    // large): the write then fails, but the answer is still there to read.
    let failure: Error | undefined;
    socket.on('error', (err) => (failure = err));
    socket.on('close', () => {
      if (chunks.length === 0) {
        reject(failure ?? new Error('the server closed the connection without answering'));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const [headText = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = headText.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((l) => [
          l.slice(0, l.indexOf(':')).toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(head);
    if (!body) return;
    // A large body is held back briefly, as a client sending Expect: 100-continue would: a server
    // that refuses it from its headers answers at once and closes, and a body still being
    // written then would make the client's TCP stack drop that answer.
    if (body.length <= 64 * 1024) socket.write(body);
    else setTimeout(() => chunks.length === 0 && !socket.destroyed && socket.write(body), 2_000);
  });
}

interface Case {
  name: string;
  /** The status this case must get, when more is known than "a 4xx". */
  expect?: number;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  key?: string | null;
}

/** Sends one case; its answer goes through the contract check too. */
async function send(port: number, c: Case): Promise<RawResponse> {
  const res = await sendRaw(port, c);
  await checkAnswer(
    `http://127.0.0.1:${port}`,
    { method: c.method, path: c.path },
    { status: res.status, contentType: res.headers['content-type'] ?? null, text: res.body },
  );
  return res;
}

async function sendRaw(port: number, c: Case): Promise<RawResponse> {
  const body =
    c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8');
  const headers: Record<string, string> = {
    host: '127.0.0.1',
    connection: 'close',
    ...(c.key === null ? {} : { authorization: `Bearer ${c.key ?? KEY}` }),
    ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
    ...c.headers,
  };
  const head = `${c.method} ${c.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return raw(port, head, body);
}

const cursor = (payload: unknown) => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
const UUID = '00000000-0000-4000-8000-000000000000';
// Values a client can put in a text field that Postgres cannot store, or that JavaScript and
// Postgres read differently.
const BAD_TEXT = { nul: 'a\u0000b', surrogate: 'a\ud800b', lowSurrogate: '\udc00' };
const BAD_QUERY = {
  nul: 'a%00b',
  surrogateBytes: '%ED%A0%80',
  huge: 'x'.repeat(20_000),
  cursorDate: cursor({ c: '2024-02-31T00:00:00.000Z', i: UUID }),
  cursorYear0: cursor({ c: '0000-01-01T00:00:00.000Z', i: UUID, q: '0000-01-01T00:00:00.000Z' }),
  cursorNul: cursor({ r: UUID, k: ['a\u0000'] }),
  cursorGarbage: 'not!a!cursor',
};

interface OpenApi {
  components?: { schemas?: Record<string, JsonSchema> };
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { in: string; name: string }[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
      }
    >
  >;
}
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  format?: string;
}

/** A valid-looking value for a body property, to carry one bad field at a time. */
function sample(name: string, schema: JsonSchema | undefined): unknown {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if (type === 'object' || schema?.properties)
    return Object.fromEntries(Object.entries(schema?.properties ?? {}).map(([k, v]) => [k, sample(k, v)]));
  if (type === 'boolean') return true;
  if (type === 'number' || type === 'integer') return 3_600_000;
  if (type === 'array') return ['read'];
  if (name === 'expiresAt') return '2099-01-01T00:00:00Z';
  return 'text';
}

/** Every malformed request the table holds for one operation of the OpenAPI document. */
function casesFor(
  path: string,
  method: string,
  op: OpenApi['paths'][string][string],
  ids: Record<string, string>,
  components: Record<string, JsonSchema>,
): Case[] {
  const out: Case[] = [];
  const M = method.toUpperCase();
  const fill = (override?: Record<string, string>) =>
    path.replace(
      /\{(\w+)\}/g,
      (_, name: string) =>
        override?.[name] ??
        (name === 'arn' ? encodeURIComponent('arn:aws:iam::111111111111:user/alice') : (ids[path] ?? UUID)),
    );
  const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
  for (const name of params) {
    for (const [kind, value] of Object.entries({
      nul: '%00',
      nulInside:
        name === 'arn'
          ? encodeURIComponent('arn:aws:iam::111111111111:role/a') + '%00'
          : `${UUID.slice(0, -1)}%00`,
      surrogateBytes: '%ED%A0%80',
      badEscape: '%zz',
      huge: 'a'.repeat(5_000),
    })) {
      out.push({ name: `${M} ${path} path ${name} ${kind}`, method: M, path: fill({ [name]: value }) });
    }
  }
  const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  for (const name of query) {
    for (const [kind, value] of Object.entries(BAD_QUERY)) {
      if (kind.startsWith('cursor') && name !== 'cursor') continue;
      out.push({ name: `${M} ${path} query ${name} ${kind}`, method: M, path: `${fill()}?${name}=${value}` });
    }
  }
  if (M === 'DELETE') return out.filter((c) => !c.path.includes(ids[path] ?? '\u0000'));
  // Request bodies are named components (`$ref`).
  const given = op.requestBody?.content?.['application/json']?.schema;
  const schema = given?.$ref ? components[given.$ref.replace('#/components/schemas/', '')] : given;
  if (schema || M === 'POST' || M === 'PATCH') {
    const base = (sample('', schema ?? { type: 'object' }) ?? {}) as Record<string, unknown>;
    const target = fill();
    const body = (value: unknown) => JSON.stringify(value);
    for (const [field, fieldSchema] of Object.entries(schema?.properties ?? {})) {
      for (const [kind, value] of Object.entries(BAD_TEXT)) {
        const bad =
          fieldSchema.type === 'object' || fieldSchema.properties
            ? { ...(sample(field, fieldSchema) as object), zz: value }
            : value;
        out.push({
          name: `${M} ${path} body ${field} ${kind}`,
          method: M,
          path: target,
          body: body({ ...base, [field]: bad }),
          expect: 400,
        });
      }
      if (fieldSchema.properties)
        out.push({
          name: `${M} ${path} body ${field} unknown nested field`,
          method: M,
          path: target,
          body: body({ ...base, [field]: { ...(sample(field, fieldSchema) as object), sessionToken: 'x' } }),
          expect: 400,
        });
      if (field === 'expiresAt')
        for (const d of ['2024-02-31T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z'])
          out.push({
            name: `${M} ${path} body expiresAt ${d}`,
            method: M,
            path: target,
            body: body({ ...base, expiresAt: d }),
            expect: 400,
          });
    }
    out.push(
      {
        name: `${M} ${path} unknown field`,
        method: M,
        path: target,
        body: body({ ...base, surprise: 1 }),
        expect: 400,
      },
      {
        name: `${M} ${path} lone surrogate key`,
        method: M,
        path: target,
        body: `{"\\ud800":1}`,
        expect: 400,
      },
      { name: `${M} ${path} bad JSON`, method: M, path: target, body: '{"name": ' },
      {
        name: `${M} ${path} huge body`,
        method: M,
        path: target,
        body: body({ ...base, name: 'x'.repeat(2 * 1024 * 1024) }),
      },
      {
        name: `${M} ${path} deeply nested body`,
        method: M,
        path: target,
        body: `{"labels":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      },
      { name: `${M} ${path} array body`, method: M, path: target, body: '[1,2,3]' },
      {
        name: `${M} ${path} wrong content type`,
        method: M,
        path: target,
        body: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      {
        name: `${M} ${path} unauthenticated bad body`,
        method: M,
        path: target,
        body: body({ surprise: 1 }),
        key: null,
      },
    );
    if (schema?.properties?.schedule) {
      for (const cron of ['61 * * * *', '0 0 31 2 *', 'every day'])
        out.push({
          name: `${M} ${path} bad cron ${cron}`,
          method: M,
          path: target,
          body: body({ ...base, name: `cron-${randomId()}`, region: 'eu-west-1', schedule: { cron } }),
          expect: 400,
        });
    }
  }
  out.push({
    name: `${M} ${path} header too large`,
    method: M,
    path: fill(),
    headers: { 'x-filler': 'f'.repeat(20_000) },
  });
  return out;
}

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
  for (const name of ['api-a', 'api-b']) {
    const port = await freePort();
    ports.push(port);
    processes.push(
      startProduct(name, 'apps/api/src/main.ts', {
        DATABASE_URL: database.url,
        ENCRYPTION_KEY: database.encryptionKey,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        HOST: '127.0.0.1',
        PORT: String(port),
        BOOTSTRAP_API_KEY: KEY,
      }),
    );
  }
  for (const port of ports)
    await until('the API to be ready', () => apiReady(`http://127.0.0.1:${port}`), 120_000);
}, 240_000);

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => exited(p.child)));
  await database?.drop();
});

const json = <T>(r: RawResponse) => JSON.parse(r.body) as T;

describe('malformed input to every route', () => {
  it('never answers 500, and answers every error in the envelope', { timeout: 600_000 }, async () => {
    const port = ports[0]!;
    const post = async (path: string, value: unknown) =>
      json<{ id: string }>(
        await send(port, { name: path, method: 'POST', path, body: JSON.stringify(value) }),
      );
    const cluster = await post('/v1/clusters', {
      name: 'target',
      region: 'eu-west-1',
      labels: { team: 'a' },
    });
    const spec = json<OpenApi>(await send(port, { name: 'spec', method: 'GET', path: '/openapi.json' }));
    const ids: Record<string, string> = {};
    for (const path of Object.keys(spec.paths))
      if (path.startsWith('/v1/clusters/{id}')) ids[path] = cluster.id;

    const cases = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        casesFor(path, method, op, ids, spec.components?.schemas ?? {}),
      ),
    );
    cases.push(
      { name: 'malformed URL escape', method: 'GET', path: '/v1/clusters/%E0%A4%A' },
      { name: 'unknown route with NUL', method: 'GET', path: '/v1/%00' },
      { name: 'request line garbage', method: 'GET', path: '/v1/clusters bad' },
    );
    const byStatus: Record<string, number> = {};
    const failures: string[] = [];
    for (const c of cases) {
      let res: RawResponse;
      try {
        res = await send(port, c);
      } catch (err) {
        failures.push(`${c.name}: no answer (${String(err)})`);
        continue;
      }
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      if (res.status >= 500 || Number.isNaN(res.status))
        failures.push(`${c.name}: ${res.status} ${res.body.slice(0, 200)}`);
      if (res.status >= 400) {
        let envelope: { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined;
        try {
          envelope = JSON.parse(res.body) as typeof envelope;
        } catch {
          envelope = undefined;
        }
        const e = envelope?.error;
        if (
          !e ||
          typeof e.code !== 'string' ||
          typeof e.message !== 'string' ||
          typeof e.requestId !== 'string'
        )
          failures.push(`${c.name}: ${res.status} not in the envelope: ${res.body.slice(0, 200)}`);
      }
      if (c.key === null && res.status !== 401)
        failures.push(`${c.name}: unauthenticated request answered ${res.status}`);
      if (c.expect !== undefined && c.key !== null && res.status !== c.expect) {
        failures.push(`${c.name}: answered ${res.status}, not ${c.expect}: ${res.body.slice(0, 200)}`);
      }
    }
    // The bad requests changed nothing: the one cluster is as it was, and no cron cluster was saved.
    const clusters = json<{ items: { name: string; labels: Record<string, string> }[] }>(
      await send(port, { name: 'list', method: 'GET', path: '/v1/clusters' }),
    );
    report('malformed input', {
      requests: cases.length,
      routes: Object.values(spec.paths).reduce((n, ops) => n + Object.keys(ops).length, 0),
      byStatus,
      status500: byStatus['500'] ?? 0,
      notInEnvelope: failures.filter((f) => f.includes('envelope')).length,
    });
    expect(failures).toEqual([]);
    expect(clusters.items.map((c) => c.name)).toEqual(['target']);
    expect(clusters.items[0]!.labels).toEqual({ team: 'a' });
  });

  it(
    'revokes and rotates keys with effect on the next request to either API process',
    { timeout: 120_000 },
    async () => {
      const [a, b] = ports as [number, number];
      const asKey = (port: number, key: string) =>
        send(port, { name: 'probe', method: 'GET', path: '/v1/clusters', key }).then((r) => r.status);
      const created = json<{ id: string; key: string }>(
        await send(a, {
          name: 'create',
          method: 'POST',
          path: '/v1/api-keys',
          body: JSON.stringify({ name: 'ops', scopes: ['read'] }),
        }),
      );
      expect([await asKey(a, created.key), await asKey(b, created.key)]).toEqual([200, 200]);
      const rotated = json<{ id: string; key: string }>(
        await send(b, { name: 'rotate', method: 'POST', path: `/v1/api-keys/${created.id}/rotate` }),
      );
      const afterRotate = [
        await asKey(a, created.key),
        await asKey(b, created.key),
        await asKey(a, rotated.key),
        await asKey(b, rotated.key),
      ];
      expect(afterRotate).toEqual([401, 401, 200, 200]);
      expect(
        (await send(a, { name: 'revoke', method: 'DELETE', path: `/v1/api-keys/${rotated.id}` })).status,
      ).toBe(204);
      const afterRevoke = [await asKey(b, rotated.key), await asKey(a, rotated.key)];
      expect(afterRevoke).toEqual([401, 401]);
      report('key revocation', {
        apiProcesses: 2,
        afterRotate: { oldKey: afterRotate.slice(0, 2), newKey: afterRotate.slice(2) },
        afterRevoke,
      });
      expect(unstructuredLines(processes)).toEqual([]);
    },
  );
});
