// The contract check: is an answer the API gave one its OpenAPI document declares? The status must
// be declared for the operation (method and path template), and the body must match the schema of
// that status and content type. The test suites run every answer they receive through it (the API's
// own suites through app.inject, the cross-process suites through their HTTP helpers), so a route
// whose answers drift from its document fails the test that received the answer.
//
// The document is OpenAPI 3.0: its schemas are JSON Schema draft-04-ish with `nullable`, which Ajv
// validates as they are once `$ref`s point into one schema holding every component.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { OpenApiDocument, OpenApiOperation, OpenApiResponse } from './document.js';

export type { OpenApiDocument };

/** One answer as a client saw it. */
export interface ObservedResponse {
  method: string;
  /** Path and query as requested (not decoded). */
  url: string;
  status: number;
  contentType?: string | undefined;
  body: string;
}

export interface ContractResult {
  /** The operation the answer belongs to; undefined when the document has none for its method and path. */
  operationId?: string;
  /** What breaks the document; undefined when the answer conforms. */
  problem?: string;
}

export interface ContractChecker {
  check(res: ObservedResponse): ContractResult;
}

const COMPONENTS_ID = 'openapi-components';
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Points `#/components/schemas/X` references at the one schema that holds every component. */
function pointRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pointRefs);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string'
        ? v.replace('#/components/schemas/', `${COMPONENTS_ID}#/definitions/`)
        : k === 'example'
          ? v
          : pointRefs(v),
    ]),
  );
}

interface Route {
  template: string;
  pattern: RegExp;
  params: number;
}

function explain(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map(
      (e) =>
        `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`,
    )
    .join('; ');
}

/** A checker for the answers of the API `document` describes. */
export function createContractChecker(document: OpenApiDocument): ContractChecker {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: {
      uuid: UUID,
      'date-time': { validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) },
    },
  });
  ajv.addSchema({
    $id: COMPONENTS_ID,
    definitions: pointRefs(document.components?.schemas ?? {}) as Record<string, object>,
  });
  const routes: Route[] = Object.keys(document.paths)
    .map((template) => ({
      template,
      pattern: new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`,
      ),
      params: (template.match(/\{/g) ?? []).length,
    }))
    // A literal segment wins over a parameter (as in Fastify's router).
    .sort((a, b) => a.params - b.params);
  const validators = new Map<string, ValidateFunction>();

  function responseOf(op: OpenApiOperation, status: number): OpenApiResponse | undefined {
    const declared =
      op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
    if (!declared) return undefined;
    if ('$ref' in declared)
      return document.components?.responses?.[declared.$ref.replace('#/components/responses/', '')];
    return declared;
  }

  return {
    check(res) {
      const path = res.url.split('?')[0] ?? '';
      const route = routes.find((r) => r.pattern.test(path));
      const op = route ? document.paths[route.template]?.[res.method.toLowerCase()] : undefined;
      if (!route || !op) return {};
      const operationId = op.operationId ?? `${res.method} ${route.template}`;
      const response = responseOf(op, res.status);
      const fail = (problem: string): ContractResult => ({
        operationId,
        problem: `${res.method} ${path} → ${res.status} (${operationId}): ${problem}`,
      });
      if (!response)
        return fail(
          `status ${res.status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`,
        );
      if (!response.content)
        return res.body === ''
          ? { operationId }
          : fail(`a body was sent where none is declared: ${res.body.slice(0, 200)}`);
      const mediaType = (res.contentType ?? '').split(';')[0]!.trim().toLowerCase();
      const media = response.content[mediaType];
      if (!media)
        return fail(
          `content type "${mediaType}" is not declared (declared: ${Object.keys(response.content).join(', ')})`,
        );
      if (!mediaType.endsWith('json')) return { operationId };
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        return fail(`the body is not JSON: ${res.body.slice(0, 200)}`);
      }
      // Most answers share a handful of schemas (a $ref to the error envelope above all): one
      // compiled validator per distinct schema.
      const schema = pointRefs(media.schema ?? {}) as object;
      const key = JSON.stringify(schema);
      let validate = validators.get(key);
      if (!validate) {
        validate = ajv.compile(schema);
        validators.set(key, validate);
      }
      return validate(body)
        ? { operationId }
        : fail(
            `the body does not match the schema: ${explain(validate.errors)}; body: ${res.body.slice(0, 300)}`,
          );
    },
  };
}

/**
 * Collects the contract results of a test run: violations until the test that caused them takes
 * them, and counts for the summary. The document is loaded on first use (from the app, or from the
 * API process over HTTP).
 */
export function createContractRecorder() {
  let checker: Promise<ContractChecker> | undefined;
  let violations: string[] = [];
  const counts = { validated: 0, skipped: 0, unchecked: 0 };
  return {
    /** Checks one answer; `load` gives the document the first time (a failed load is retried next time). */
    async record(
      res: ObservedResponse,
      load: () => OpenApiDocument | Promise<OpenApiDocument>,
    ): Promise<void> {
      checker ??= Promise.resolve().then(load).then(createContractChecker);
      let result: ContractResult;
      try {
        result = (await checker).check(res);
      } catch {
        checker = undefined;
        counts.unchecked += 1;
        return;
      }
      if (result.operationId === undefined) counts.skipped += 1;
      else counts.validated += 1;
      if (result.problem) violations.push(result.problem);
    },
    /** Records a problem found another way (a field the handler returned and the schema dropped). */
    violation(problem: string): void {
      violations.push(problem);
    },
    /** For afterEach: the test that received an answer breaking the document fails. */
    afterTest(): void {
      const taken = violations;
      violations = [];
      if (taken.length > 0) throw new Error(`answers that break the OpenAPI document:\n${taken.join('\n')}`);
    },
    /** For afterAll: prints how many answers were checked; fails when answers came and none was. */
    afterSuite(): void {
      const { validated, skipped, unchecked } = counts;
      if (validated + skipped + unchecked === 0) return;
      console.info(
        `contract: ${validated} answers validated against the OpenAPI document (${skipped} for routes it does not describe, ${unchecked} while it could not be read)`,
      );
      if (validated === 0)
        throw new Error('the contract check validated no answer: the document could not be read');
    },
  };
}
export type ContractRecorder = ReturnType<typeof createContractRecorder>;
