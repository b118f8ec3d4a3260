// `eks-access register-clusters` run as a user runs it, against a stand-in for the API's
// PUT /v1/clusters/bulk (the route itself is tested in apps/api against Postgres and Redis): the
// file is read as YAML or JSON, sent in batches with the API key, a 503 is waited out and the batch
// sent again, and every cluster is reported under its position in the file.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/eks-access.js');
const dir = mkdtempSync(join(tmpdir(), 'eks-access-fleet-'));

interface Received {
  method: string;
  url: string;
  authorization: string | undefined;
  clusters: { name?: string }[];
}

let server: Server;
let apiUrl: string;
let received: Received[];
/** Answers 503 (Retry-After: 0) to this many requests first. */
let unavailableFor = 0;

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      const clusters = (body as { clusters: { name?: string; region?: string }[] }).clusters;
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        clusters,
      });
      res.setHeader('content-type', 'application/json');
      if (unavailableFor > 0) {
        unavailableFor--;
        res.writeHead(503, { 'retry-after': '0' });
        res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'queue busy', requestId: 'r' } }));
        return;
      }
      // Like the API: an outcome per item, numbered within the request; a name with a space is invalid.
      const items = clusters.map((c, index) =>
        c.name?.includes(' ')
          ? {
              index,
              status: 'invalid',
              name: c.name,
              region: c.region,
              problems: [{ path: '/name', message: 'must be a valid EKS cluster name' }],
            }
          : { index, status: 'created', name: c.name, region: c.region, id: `id-${c.name}` },
      );
      res.end(JSON.stringify({ summary: {}, items }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  received = [];
  unavailableFor = 0;
});

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('eks-access register-clusters', () => {
  it('sends a YAML fleet in batches with the API key, waits out a 503, and reports each cluster by its place in the file', async () => {
    const file = join(dir, 'fleet.yaml');
    writeFileSync(
      file,
      [
        '# three clusters',
        '- name: prod-eu',
        '  region: eu-west-1',
        '  roleArn: arn:aws:iam::111122223333:role/C1EksConnector',
        '  externalId: tenant-secret-1',
        '  schedule: { everyMs: 3600000 }',
        '- name: bad name',
        '  region: eu-west-1',
        '- name: staging-us',
        '  region: us-east-1',
        '',
      ].join('\n'),
    );
    unavailableFor = 1;
    const res = await cli(['register-clusters', '--file', file, '--batch-size', '2', '--api-url', apiUrl], {
      EKS_ACCESS_API_KEY: 'eak_test_key',
    });

    // The first batch met the 503 and was sent again; then the second batch.
    expect(received.map((r) => r.clusters.map((c) => c.name))).toEqual([
      ['prod-eu', 'bad name'],
      ['prod-eu', 'bad name'],
      ['staging-us'],
    ]);
    for (const r of received) {
      expect(r).toMatchObject({
        method: 'PUT',
        url: '/v1/clusters/bulk',
        authorization: 'Bearer eak_test_key',
      });
    }
    expect(received[0]!.clusters[0]).toMatchObject({
      externalId: 'tenant-secret-1',
      schedule: { everyMs: 3_600_000 },
    });

    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^#0 created +prod-eu eu-west-1 +id-prod-eu$/);
    expect(lines[1]).toMatch(/^#1 invalid +bad name eu-west-1 +\/name: must be a valid EKS cluster name$/);
    expect(lines[2]).toMatch(/^#2 created +staging-us us-east-1/);
    expect(lines[3]).toBe('3 clusters: 2 created, 0 updated, 0 unchanged, 1 invalid');
    // The secret went to the API and nowhere else.
    expect(res.stdout + res.stderr).not.toContain('tenant-secret-1');
  });

  it('reads a JSON file with a "clusters" list and prints the outcomes as JSON; exit 0 when none is invalid', async () => {
    const file = join(dir, 'fleet.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [
          { name: 'a', region: 'eu-west-1' },
          { name: 'b', region: 'eu-west-1' },
        ],
      }),
    );
    const res = await cli(['register-clusters', '-f', file, '-o', 'json', '--api-key', 'k'], {
      EKS_ACCESS_API_URL: `${apiUrl}/`,
    });
    expect(res.code).toBe(0);
    expect(received).toHaveLength(1);
    const out = JSON.parse(res.stdout) as { summary: unknown; items: { index: number; status: string }[] };
    expect(out.summary).toEqual({ created: 2, updated: 0, unchanged: 0, invalid: 0 });
    expect(out.items.map((i) => [i.index, i.status])).toEqual([
      [0, 'created'],
      [1, 'created'],
    ]);
  });

  it('exits 2 with what to fix, sending nothing, for a missing key or a file that is not a list', async () => {
    const notAList = join(dir, 'not-a-list.yaml');
    writeFileSync(notAList, 'name: prod-eu\nregion: eu-west-1\n');
    const noKey = await cli(['register-clusters', '--file', notAList, '--api-url', apiUrl]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/EKS_ACCESS_API_KEY/);
    const badFile = await cli([
      'register-clusters',
      '--file',
      notAList,
      '--api-url',
      apiUrl,
      '--api-key',
      'k',
    ]);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/expected a list of clusters/);
    const missing = await cli(['register-clusters', '--file', join(dir, 'nope.yaml'), '--api-key', 'k']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml: ENOENT/);
    expect(received).toEqual([]);
  });
});
