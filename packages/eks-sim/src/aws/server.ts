// The AWS endpoint: one HTTP server answering STS and IAM (awsQuery: form body in, XML out) and
// EKS (REST-JSON), the way an SDK client pointed at a custom endpoint expects. Every request is
// SigV4-verified first; the credential scope's service decides which API answers. Errors are
// rendered in each protocol's own shape so the SDKs raise their typed exceptions.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from '../faults.js';
import { sleep } from '../faults.js';
import type { Credential } from '../world/types.js';
import type { World } from '../world/world.js';
import { accessDeniedMessage, decideForCaller } from './identity-policy.js';
import { parseQuery, verifyHeaderSignature, type SigV4FailureCode } from './sigv4.js';

export type AwsServiceName = 'sts' | 'iam' | 'eks';
export type AwsProtocol = 'query' | 'rest-json';

export const SERVICE_PROTOCOL: Record<AwsServiceName, AwsProtocol> = {
  sts: 'query',
  iam: 'query',
  eks: 'rest-json',
};
export const QUERY_NAMESPACES: Record<'sts' | 'iam', string> = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
};

/** An AWS API error; `code` is what the SDK turns into the exception name. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: {
      type?: 'Sender' | 'Receiver';
      headers?: Record<string, string>;
      body?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** A request after transport parsing, before routing. */
export interface AwsRequest {
  method: string;
  /** Raw (percent-encoded) path. */
  path: string;
  /** Decoded path segments (`/clusters/a%2Fb` → ['clusters', 'a/b']). */
  segments: string[];
  query: [string, string][];
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** awsQuery: the form parameters (URL query merged with the form body). */
  params: Map<string, string>;
}

export interface AwsCall extends AwsRequest {
  world: World;
  caller: Credential;
  region: string;
  requestId: string;
  now: Date;
  /** The advertised host name (for endpoints the APIs report, e.g. DescribeCluster). */
  host: string;
}

export interface AwsReply {
  status?: number;
  headers?: Record<string, string>;
  /** awsQuery: a complete XML document. REST-JSON: a value serialised as JSON. */
  body: string | object | null;
}

/** A call to an operation AWS serves without a signature: there may be no caller. */
export interface AwsUnsignedCall extends Omit<AwsCall, 'caller'> {
  caller: Credential | undefined;
}

interface RouteBase {
  /** Operation name as AWS names it (`ListRoles`); counters and faults use `<service>:<operation>`. */
  operation: string;
  /** EKS calls name a cluster; per-cluster fault rules match on it. */
  cluster?: string;
  /**
   * The resource ARN IAM authorizes the call on (`*` when the action takes none). Calls to IAM
   * and EKS are checked against the caller's identity policies before they run; STS checks its
   * own (AssumeRole weighs the trust policy too).
   */
  resource?: (call: AwsCall) => string;
}

export interface SignedRoute extends RouteBase {
  unsigned?: false;
  handle(call: AwsCall): AwsReply | Promise<AwsReply>;
}

/**
 * An operation that needs no signature (STS AssumeRoleWithWebIdentity: the token is the proof).
 * `account` is the account its rate limits count against, since there is no caller to take it from.
 */
export interface UnsignedRoute extends RouteBase {
  unsigned: true;
  account?: string;
  handle(call: AwsUnsignedCall): AwsReply | Promise<AwsReply>;
}

export type AwsRoute = SignedRoute | UnsignedRoute;

/** A handler tried before SigV4 (the admin API, the Pod Identity agent, OIDC discovery); false = not mine. */
export type PlainHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;

export interface AwsService {
  name: AwsServiceName;
  route(req: AwsRequest): AwsRoute | undefined;
}

export interface AwsServerOptions {
  world: () => World;
  faults: Faults;
  services: AwsService[];
  host: string;
  /** Handles `/_sim/...` (the admin API); returns false if it did not handle the request. */
  admin?: PlainHandler;
  /** Non-AWS-API endpoints served on the same port, tried in order before SigV4 verification. */
  plain?: PlainHandler[];
  now?: () => Date;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
}

export function xmlEscape(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

const AUTH_ERRORS: Record<AwsProtocol, Record<SigV4FailureCode, [string, number]>> = {
  query: {
    MissingAuthenticationToken: ['MissingAuthenticationToken', 403],
    IncompleteSignature: ['IncompleteSignature', 400],
    InvalidClientTokenId: ['InvalidClientTokenId', 403],
    SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403],
    ExpiredToken: ['ExpiredToken', 403],
    RequestExpired: ['RequestExpired', 400],
    InvalidToken: ['InvalidClientTokenId', 403],
  },
  'rest-json': {
    MissingAuthenticationToken: ['MissingAuthenticationTokenException', 403],
    IncompleteSignature: ['IncompleteSignatureException', 400],
    InvalidClientTokenId: ['UnrecognizedClientException', 403],
    SignatureDoesNotMatch: ['InvalidSignatureException', 403],
    ExpiredToken: ['ExpiredTokenException', 403],
    RequestExpired: ['InvalidSignatureException', 403],
    InvalidToken: ['UnrecognizedClientException', 403],
  },
};

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function renderError(res: ServerResponse, service: AwsServiceName, err: AwsError, requestId: string): void {
  if (SERVICE_PROTOCOL[service] === 'query') {
    const ns = QUERY_NAMESPACES[service as 'sts' | 'iam'];
    const type = err.extra.type ?? (err.status >= 500 ? 'Receiver' : 'Sender');
    const body = `<ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(
      res,
      err.status,
      { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...err.extra.headers },
      body,
    );
  } else {
    send(
      res,
      err.status,
      {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': err.code,
        ...err.extra.headers,
      },
      JSON.stringify({ ...err.extra.body, message: err.message }),
    );
  }
}

function sendReply(res: ServerResponse, service: AwsServiceName, reply: AwsReply, requestId: string): void {
  const status = reply.status ?? 200;
  if (SERVICE_PROTOCOL[service] === 'query') {
    send(
      res,
      status,
      { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...reply.headers },
      typeof reply.body === 'string' ? reply.body : '',
    );
  } else {
    const text = reply.body === null ? '' : JSON.stringify(reply.body);
    send(
      res,
      status,
      { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...reply.headers },
      text,
    );
  }
}

function throttleError(service: AwsServiceName): AwsError {
  return service === 'eks'
    ? new AwsError('ThrottlingException', 'Rate exceeded', 429)
    : new AwsError('Throttling', 'Rate exceeded', 400);
}

function serverError(service: AwsServiceName, status: number): AwsError {
  if (service === 'eks') {
    return status === 503
      ? new AwsError('ServiceUnavailableException', 'Service unavailable', 503)
      : new AwsError('ServerException', 'Internal server error', status);
  }
  return status === 503
    ? new AwsError('ServiceUnavailable', 'Service is unable to handle request', 503)
    : new AwsError(
        'InternalFailure',
        'The request processing has failed because of an unknown error, exception or failure.',
        status,
      );
}

/** Whether a request carries SigV4 material at all (a header or a presigned query). */
function isSigned(req: AwsRequest): boolean {
  return req.headers.authorization !== undefined || req.query.some(([k]) => k === 'X-Amz-Signature');
}

/** Guesses the service of an unsigned request so its error is shaped right. */
function guessService(req: AwsRequest): AwsServiceName {
  if (req.params.get('Version') === '2011-06-15') return 'sts';
  if (req.params.get('Version') === '2010-05-08') return 'iam';
  if (req.params.has('Action')) return 'sts';
  return 'eks';
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new AwsError('RequestEntityTooLarge', `request body exceeds ${limit} bytes`, 413));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Refuses a call the caller's identity policies do not allow, as IAM and EKS refuse it. */
function authorizeCall(call: AwsCall, service: AwsServiceName, route: AwsRoute): void {
  const action = `${service}:${route.operation}`;
  const resource = route.resource?.(call) ?? '*';
  const caller = call.caller.identity;
  const decision = decideForCaller(call.world, caller, {
    action,
    resource,
    context: { 'aws:requestedregion': call.region },
  });
  if (decision === 'allow' || decision === 'unrestricted') return;
  throw new AwsError(
    service === 'eks' ? 'AccessDeniedException' : 'AccessDenied',
    accessDeniedMessage(caller, action, resource, decision),
    403,
  );
}

/** Builds the request listener of the AWS endpoint. */
export function createAwsHandler(
  options: AwsServerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const byName = new Map(options.services.map((s) => [s.name, s]));
  const now = options.now ?? (() => new Date());
  const limit = options.maxBodyBytes ?? 1024 * 1024;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let service: AwsServiceName = 'eks';
    try {
      const body = await readBody(req, limit);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      if (path.startsWith('/_sim/') && options.admin && (await options.admin(req, res, body))) return;

      const query = parseQuery(rawQuery);
      const params = new Map<string, string>(query);
      const contentType = String(req.headers['content-type'] ?? '');
      if (contentType.startsWith('application/x-www-form-urlencoded')) {
        for (const [k, v] of parseQuery(body.toString('utf8'))) params.set(k, v);
      }
      const request: AwsRequest = {
        method: req.method ?? 'GET',
        path,
        segments: path
          .split('/')
          .filter((s) => s !== '')
          .map(decodeSegment),
        query,
        headers: req.headers,
        body,
        params,
      };
      service = guessService(request);
      const world = options.world();
      for (const plain of options.plain ?? []) if (await plain(req, res, body)) return;
      if (!isSigned(request)) {
        const route = byName.get(service)?.route(request);
        if (route?.unsigned) {
          const decision = options.faults.decide(`${service}:${route.operation}`, {
            ...(route.cluster === undefined ? {} : { cluster: route.cluster }),
            ...(route.account === undefined ? {} : { account: route.account }),
          });
          await sleep(decision.delayMs);
          if (decision.throttle) throw throttleError(service);
          if (decision.errorStatus) throw serverError(service, decision.errorStatus);
          const reply = await route.handle({
            ...request,
            world,
            caller: undefined,
            region: 'us-east-1',
            requestId,
            now: now(),
            host: options.host,
          });
          sendReply(res, service, reply, requestId);
          return;
        }
      }
      const verified = verifyHeaderSignature(
        { method: request.method, path, query: rawQuery, headers: req.headers, body },
        (id) => world.credentials.get(id),
        now(),
      );
      if (verified.service && byName.has(verified.service as AwsServiceName))
        service = verified.service as AwsServiceName;
      if (!verified.ok) {
        const [code, status] = AUTH_ERRORS[SERVICE_PROTOCOL[service]][verified.code];
        throw new AwsError(code, verified.message, status);
      }
      const api = byName.get(service);
      if (!api) throw new AwsError('UnknownService', `service "${verified.service}" is not simulated`, 400);
      const route = api.route(request);
      if (!route) {
        throw SERVICE_PROTOCOL[service] === 'query'
          ? new AwsError(
              'InvalidAction',
              `Could not find operation ${params.get('Action') ?? '(none)'} for version ${params.get('Version') ?? '(none)'}`,
              400,
            )
          : new AwsError('UnknownOperationException', `no ${request.method} operation at ${path}`, 404);
      }
      // Rate limits count against the account that owns the calling credentials, as on AWS.
      const decision = options.faults.decide(`${service}:${route.operation}`, {
        ...(route.cluster === undefined ? {} : { cluster: route.cluster }),
        account: verified.credential.identity.accountId,
        region: verified.region,
      });
      await sleep(decision.delayMs);
      if (decision.throttle) throw throttleError(service);
      if (decision.errorStatus) throw serverError(service, decision.errorStatus);

      const call: AwsCall = {
        ...request,
        world,
        caller: verified.credential,
        region: verified.region,
        requestId,
        now: now(),
        host: options.host,
      };
      if (service !== 'sts') authorizeCall(call, service, route);
      sendReply(res, service, await route.handle(call), requestId);
    } catch (err) {
      if (err instanceof AwsError) renderError(res, service, err, requestId);
      else {
        // A bug in the simulator must still answer like AWS does, not hang or crash the server.
        renderError(
          res,
          service,
          new AwsError('InternalFailure', err instanceof Error ? err.message : String(err), 500),
          requestId,
        );
      }
    }
  }

  return (req, res) => {
    void handle(req, res);
  };
}
