// The contract check itself: it must catch a wrong body and an undeclared status (or every suite
// that relies on it could pass while answers drift), and the document it checks against must hold
// what clients generate from: an operation id, a summary and examples on every operation, the error
// envelope on every error, security on every operation.
import { beforeAll, describe, expect, it } from 'vitest';
import { createContractChecker, createContractRecorder, type ContractChecker } from './contract.js';
import type { OpenApiDocument, OpenApiResponse } from './document.js';
import { EXAMPLE_IDS } from './examples.js';
import { buildOpenApiDocument } from './offline.js';

let document: OpenApiDocument;
let checker: ContractChecker;

beforeAll(async () => {
  document = await buildOpenApiDocument();
  checker = createContractChecker(document);
});

const json = 'application/json; charset=utf-8';
const cluster = {
  id: EXAMPLE_IDS.cluster,
  name: 'prod-eu',
  region: 'eu-west-1',
  accountId: null,
  arn: null,
  roleArn: null,
  hostingMode: 'default-chain',
  c1ClientId: null,
  schedule: null,
  provisioningEnabled: false,
  provisioningPolicy: {},
  labels: {},
  enabled: true,
  snapshotRetention: null,
  currentSyncRunId: null,
  createdAt: '2026-05-04T09:30:00.000Z',
  updatedAt: '2026-05-04T09:30:00.000Z',
  hasExternalId: false,
  hasCredentials: false,
  hasC1ClientSecret: false,
  doctor: null,
};
const get = (status: number, body: unknown, contentType = json) => ({
  method: 'GET',
  url: `/v1/clusters/${EXAMPLE_IDS.cluster}?x=1`,
  status,
  contentType,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('the contract check', () => {
  it('accepts an answer the document declares', () => {
    expect(checker.check(get(200, cluster))).toEqual({ operationId: 'getCluster' });
    expect(
      checker.check(
        get(404, { error: { code: 'NOT_FOUND', message: 'cluster x not found', requestId: 'r-1' } }),
      ),
    ).toEqual({ operationId: 'getCluster' });
    expect(
      checker.check({ method: 'DELETE', url: `/v1/clusters/${EXAMPLE_IDS.cluster}`, status: 204, body: '' }),
    ).toEqual({ operationId: 'deleteCluster' });
  });

  it('catches a body that breaks the schema: a wrong type, a missing field, a field the document does not declare', () => {
    expect(checker.check(get(200, { ...cluster, enabled: 'yes' })).problem).toMatch(
      /getCluster.*\/enabled must be boolean/,
    );
    const { name: _name, ...nameless } = cluster;
    expect(checker.check(get(200, nameless)).problem).toMatch(/must have required property 'name'/);
    expect(checker.check(get(200, { ...cluster, secretAccessKey: 'x' })).problem).toMatch(
      /additional properties \(secretAccessKey\)/,
    );
    expect(checker.check(get(200, { ...cluster, createdAt: 'yesterday' })).problem).toMatch(
      /createdAt must match format "date-time"/,
    );
    expect(
      checker.check(get(500, { error: { code: 'BROKEN', message: 'x', requestId: 'r' } })).problem,
    ).toMatch(/code must be equal to one of the allowed values/);
  });

  it('catches a status the operation does not declare, a body where none is declared, and an undeclared content type', () => {
    expect(
      checker.check(get(418, { error: { code: 'INTERNAL', message: 'x', requestId: 'r' } })).problem,
    ).toMatch(/status 418 is not declared/);
    expect(
      checker.check({ method: 'GET', url: '/v1/clusters', status: 404, contentType: json, body: '{}' })
        .problem,
    ).toMatch(/status 404 is not declared/);
    expect(
      checker.check({ method: 'DELETE', url: `/v1/clusters/${EXAMPLE_IDS.cluster}`, status: 204, body: '{}' })
        .problem,
    ).toMatch(/a body was sent where none is declared/);
    expect(checker.check(get(200, '<html/>', 'text/html')).problem).toMatch(
      /content type "text\/html" is not declared/,
    );
    expect(checker.check(get(200, 'not json')).problem).toMatch(/not JSON/);
  });

  it('leaves alone what the document does not describe', () => {
    expect(
      checker.check({ method: 'GET', url: '/v1/nowhere', status: 404, contentType: json, body: '{}' }),
    ).toEqual({});
    expect(
      checker.check({ method: 'PUT', url: '/v1/clusters', status: 404, contentType: json, body: '{}' }),
    ).toEqual({});
  });
});

describe('the contract recorder the suites use', () => {
  it('fails the test after a breaking answer, once, and the suite when it validated nothing', async () => {
    const recorder = createContractRecorder();
    const document = buildOpenApiDocument();
    await recorder.record(
      { method: 'GET', url: '/healthz', status: 418, contentType: 'application/json', body: '{}' },
      () => document,
    );
    expect(() => recorder.afterTest()).toThrow(/answers that break the OpenAPI document/);
    // The next test starts clean.
    expect(() => recorder.afterTest()).not.toThrow();
    expect(() => recorder.afterSuite()).not.toThrow();

    const unreadable = createContractRecorder();
    await unreadable.record(
      { method: 'GET', url: '/healthz', status: 200, contentType: 'application/json', body: '{}' },
      () => {
        throw new Error('no document');
      },
    );
    expect(() => unreadable.afterSuite()).toThrow(/validated no answer/);
  });
});

describe('the OpenAPI document', () => {
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, method, op })),
    );
  const resolve = (r: OpenApiResponse | { $ref: string }) =>
    '$ref' in r ? document.components!.responses![r.$ref.replace('#/components/responses/', '')]! : r;

  it('gives every operation a unique operationId, a summary, security, and an example for its request body and every answer', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const { name, op } of operations()) {
      if (!op.operationId || ids.has(op.operationId))
        problems.push(`${name}: operationId ${String(op.operationId)}`);
      ids.add(op.operationId ?? '');
      if (typeof op.summary !== 'string' || op.summary.length === 0) problems.push(`${name}: no summary`);
      if (!Array.isArray(op.security)) problems.push(`${name}: no security`);
      const body = op.requestBody?.content?.['application/json'];
      if (body && body.example === undefined) problems.push(`${name}: no request example`);
      for (const [status, declared] of Object.entries(op.responses)) {
        for (const media of Object.values(resolve(declared).content ?? {}))
          if (media.example === undefined) problems.push(`${name} ${status}: no example`);
      }
    }
    expect(problems).toEqual([]);
    expect(ids.size).toBeGreaterThanOrEqual(27);
  });

  it('answers every error of every operation with the error envelope, and every secured operation with 401 and 403', () => {
    const problems: string[] = [];
    for (const { name, op } of operations()) {
      for (const [status, declared] of Object.entries(op.responses)) {
        if (Number(status) < 400 || (name === 'GET /readyz' && status === '503')) continue;
        const schema = resolve(declared).content?.['application/json']?.schema as
          { $ref?: string } | undefined;
        if (schema?.$ref !== '#/components/schemas/ErrorEnvelope') problems.push(`${name} ${status}`);
      }
      const secured = (op.security as unknown[]).length > 0;
      if (secured && !(op.responses['401'] && op.responses['403'])) problems.push(`${name}: no 401/403`);
    }
    expect(problems).toEqual([]);
  });

  it('holds examples that match their own schemas', () => {
    const problems: string[] = [];
    for (const { name, method, op } of operations()) {
      const path = name.split(' ')[1]!.replace(/\{[^}]+\}/g, EXAMPLE_IDS.cluster);
      for (const [status, declared] of Object.entries(op.responses)) {
        for (const [contentType, media] of Object.entries(resolve(declared).content ?? {})) {
          const body = typeof media.example === 'string' ? media.example : JSON.stringify(media.example);
          const result = checker.check({
            method: method.toUpperCase(),
            url: path,
            status: Number(status),
            contentType,
            body,
          });
          if (result.problem) problems.push(result.problem);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
