import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createC1Client } from '../service/client.js';
import { createTokenSource } from '../service/credentials.js';
import { defaultHelloInfo } from '../service/hello-info.js';
import { messageCodecs, type UploadAssetRequest } from '../service/messages.js';
import { startStandInC1, type StandInC1 } from './index.js';

const UPLOAD_PATH = '/c1.connectorapi.baton.v1.BatonService/UploadAsset';

/** Sends `messages` as one UploadAsset stream, as given (no client-side checks); resolves with the status. */
function rawUpload(
  target: string,
  authorization: string | undefined,
  messages: UploadAssetRequest[],
): Promise<ServiceError | null> {
  const codecs = messageCodecs();
  const client = new Client(target, credentials.createInsecure());
  const metadata = new Metadata();
  if (authorization) metadata.set('authorization', authorization);
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      UPLOAD_PATH,
      (m: UploadAssetRequest) => codecs.uploadAssetRequest.encode(m),
      (b: Buffer) => codecs.uploadAssetResponse.decode(b),
      metadata,
      {},
      (err) => {
        client.close();
        resolve(err);
      },
    );
    for (const message of messages) call.write(message);
    call.end();
  });
}

describe('stand-in BatonService', () => {
  let standIn: StandInC1;
  let bearer: string;

  beforeAll(async () => {
    standIn = await startStandInC1();
    const creds = standIn.registerClient();
    const token = await createTokenSource({ ...creds, tokenUrl: standIn.tokenUrl, tls: false }).getToken();
    bearer = `${token.tokenType} ${token.accessToken}`;
  });
  afterAll(async () => {
    await standIn.close();
  });

  const data = Buffer.from('hello c1z');
  const sha = createHash('sha256').update(data).digest();

  it('accepts metadata, data and a matching eof, and stores the bytes', async () => {
    const taskId = standIn.enqueueTask({ syncFull: {} });
    const err = await rawUpload(standIn.grpcTarget, bearer, [
      { metadata: { hostId: 'h', taskId } },
      { data: { data } },
      { eof: { sha256Checksum: sha } },
    ]);
    expect(err).toBeNull();
    expect(standIn.uploads(taskId)[0]?.bytes.equals(data)).toBe(true);
  });

  it.each([
    ['data before metadata', (taskId: string) => [{ data: { data } }, { metadata: { hostId: 'h', taskId } }]],
    [
      'a checksum that does not match',
      (taskId: string) => [
        { metadata: { hostId: 'h', taskId } },
        { data: { data } },
        { eof: { sha256Checksum: Buffer.alloc(32) } },
      ],
    ],
    ['no eof', (taskId: string) => [{ metadata: { hostId: 'h', taskId } }, { data: { data } }]],
    [
      'data after eof',
      (taskId: string) => [
        { metadata: { hostId: 'h', taskId } },
        { data: { data } },
        { eof: { sha256Checksum: sha } },
        { data: { data } },
      ],
    ],
  ])('refuses an upload with %s as InvalidArgument and stores nothing', async (_case, build) => {
    const taskId = standIn.enqueueTask({ syncFull: {} });
    const err = await rawUpload(standIn.grpcTarget, bearer, build(taskId));
    expect(err?.code).toBe(3);
    expect(standIn.uploads(taskId)).toHaveLength(0);
  });

  it('refuses calls without a valid bearer token', async () => {
    const taskId = standIn.enqueueTask({ syncFull: {} });
    const err = await rawUpload(standIn.grpcTarget, 'Bearer forged', [{ metadata: { hostId: 'h', taskId } }]);
    expect(err?.code).toBe(16);
    expect((await rawUpload(standIn.grpcTarget, undefined, []))?.code).toBe(16);
  });

  it('queues tasks and reports what the connector sent through the admin API', async () => {
    const created = await fetch(`${standIn.adminUrl}/tasks`, {
      method: 'POST',
      body: JSON.stringify({ syncFull: { skipExpandGrants: true } }),
    });
    expect(created.status).toBe(201);
    const { taskId } = (await created.json()) as { taskId: string };
    expect(standIn.task(taskId)?.message.syncFull?.skipExpandGrants).toBe(true);
    await rawUpload(standIn.grpcTarget, bearer, [
      { metadata: { hostId: 'h', taskId } },
      { data: { data } },
      { eof: { sha256Checksum: sha } },
    ]);
    const task = (await (await fetch(`${standIn.adminUrl}/tasks/${taskId}`)).json()) as Record<
      string,
      unknown
    >;
    expect(task).toMatchObject({
      id: taskId,
      uploads: [{ bytes: data.length, chunks: 1, sha256: sha.toString('hex') }],
    });
    const bytes = Buffer.from(
      await (await fetch(`${standIn.adminUrl}/tasks/${taskId}/uploads/0`)).arrayBuffer(),
    );
    expect(bytes.equals(data)).toBe(true);
    const bad = await fetch(`${standIn.adminUrl}/tasks`, { method: 'POST', body: '{"nothing":{}}' });
    expect(bad.status).toBe(400);
  });

  it('queues any task kind of C1’s Task oneof, sync options and list_event_feeds included, through the admin API', async () => {
    const post = async (body: unknown) => {
      const response = await fetch(`${standIn.adminUrl}/tasks`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { taskId: string }).taskId;
    };
    const sync = await post({
      syncFull: {
        skipEntitlementsAndGrants: true,
        targetedSyncResources: [{ id: { resourceType: 'namespace', resource: 'team-a' } }],
        syncResourceTypeIds: ['namespace'],
        skipGrants: true,
        storageEngine: 'sqlite',
      },
    });
    expect(standIn.task(sync)?.message.syncFull).toEqual({
      skipEntitlementsAndGrants: true,
      targetedSyncResources: [{ id: { resourceType: 'namespace', resource: 'team-a' } }],
      syncResourceTypeIds: ['namespace'],
      skipGrants: true,
      storageEngine: 'sqlite',
    });
    const feeds = await post({ listEventFeeds: {} });
    const account = await post({ createAccount: { resourceTypeId: 'iam_user' } });
    // What a connector polling GetTask receives, decoded as it decodes it.
    const codecs = messageCodecs();
    for (const [taskId, kind] of [
      [sync, 'syncFull'],
      [feeds, 'listEventFeeds'],
      [account, 'createAccount'],
    ] as const) {
      const wire = codecs.getTaskResponse.decode(
        codecs.getTaskResponse.encode({ task: standIn.task(taskId)?.message }),
      );
      expect(wire.task?.taskType).toBe(kind);
    }
  });

  it('answers unknown token paths with 404', async () => {
    const response = await fetch(standIn.tokenUrl.replace('/auth/v1/token', '/nope'));
    expect(response.status).toBe(404);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('stand-in over TLS', () => {
  let standIn: StandInC1;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'c1-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    standIn = await startStandInC1({
      publicHost: 'localhost',
      tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    });
  });
  afterAll(async () => {
    await standIn?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the token endpoint over HTTPS and BatonService over TLS to a client trusting its CA', async () => {
    const options = standIn.clientOptions(standIn.registerClient(), 'tls-host');
    expect(standIn.tokenUrl).toMatch(/^https:/);
    const client = createC1Client(options);
    try {
      await client.hello(
        defaultHelloInfo({ packageName: 'eks-access-test', packageVersion: '0.0.0', displayName: 'EKS' }),
      );
      expect(standIn.hellos().at(-1)?.hostId).toBe('tls-host');
    } finally {
      client.close();
    }
  });

  it('is not reached by a client that does not trust its certificate', async () => {
    const client = createC1Client({ ...standIn.clientOptions(standIn.registerClient()), tls: {} });
    try {
      await expect(client.getTask()).rejects.toMatchObject({ retryable: true });
    } finally {
      client.close();
    }
  });
});
