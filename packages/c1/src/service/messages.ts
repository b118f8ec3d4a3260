// TypeScript shapes of the service-mode messages as protobufjs decodes them (camelCase fields,
// absent fields undefined), their codecs, and the annotations C1 reads from grant and revoke
// results. Field numbers live in src/proto (baton.proto and the c1.connector.v2 files).
import { codecFor, type Codec, typeNameOf } from './proto.js';

/** `google.protobuf.Any`. */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** `google.protobuf.Duration` and `google.protobuf.Timestamp` (same fields). */
export interface SecondsNanos {
  seconds?: number;
  nanos?: number;
}

/** `google.rpc.Status`. */
export interface RpcStatus {
  code?: number;
  message?: string;
  details?: AnyMessage[];
}

export interface ResourceId {
  resourceType?: string;
  resource?: string;
  batonResource?: boolean;
}

export interface ResourceType {
  id?: string;
  displayName?: string;
  traits?: string[];
  annotations?: AnyMessage[];
  description?: string;
}

export interface Resource {
  id?: ResourceId;
  parentResourceId?: ResourceId;
  displayName?: string;
  annotations?: AnyMessage[];
  description?: string;
  batonResource?: boolean;
}

export interface Entitlement {
  resource?: Resource;
  id?: string;
  displayName?: string;
  description?: string;
  grantableTo?: ResourceType[];
  annotations?: AnyMessage[];
  purpose?: string;
  slug?: string;
}

export interface Grant {
  entitlement?: Entitlement;
  principal?: Resource;
  id?: string;
  annotations?: AnyMessage[];
}

export interface ConnectorMetadata {
  displayName: string;
  helpUrl?: string;
  description?: string;
  annotations?: AnyMessage[];
}

/** `c1.connector.v2.EventFeedMetadata`: one event feed the connector serves. */
export interface EventFeedMetadata {
  id: string;
  supportedEventTypes?: (
    'EVENT_TYPE_USAGE' | 'EVENT_TYPE_RESOURCE_CHANGE' | 'EVENT_TYPE_CREATE_GRANT' | 'EVENT_TYPE_CREATE_REVOKE'
  )[];
}

/** FinishTask's `response` for a list_event_feeds task. */
export interface ListEventFeedsResponse {
  list?: EventFeedMetadata[];
  annotations?: AnyMessage[];
}

/** A list_events task's fields (baton.proto's `Task.ListEventsTask`). */
export interface ListEventsTaskPayload {
  annotations?: AnyMessage[];
  /** Resume after this cursor (the one a previous page answered); from the feed's start when empty. */
  cursor?: string;
  /** Only events that occurred at or after this instant. */
  startAt?: SecondsNanos;
  /** The feed to read; empty for the connector's default feed. */
  eventFeedId?: string;
  /** Events per page; 0 for the connector's default. */
  pageSize?: number;
}

/** `c1.connector.v2.Event` as decoded; `event` names the oneof member that is set. */
export interface EventMessage {
  id?: string;
  occurredAt?: SecondsNanos;
  event?:
    | 'usageEvent'
    | 'grantEvent'
    | 'revokeEvent'
    | 'resourceChangeEvent'
    | 'createGrantEvent'
    | 'createRevokeEvent';
  grantEvent?: { grant?: Grant };
  revokeEvent?: { entitlement?: Entitlement; principal?: Resource };
  resourceChangeEvent?: { resourceId?: ResourceId; parentResourceId?: ResourceId };
  annotations?: AnyMessage[];
}

/** FinishTask's `response` for a list_events task. */
export interface ListEventsResponse {
  events?: EventMessage[];
  cursor?: string;
  hasMore?: boolean;
  annotations?: AnyMessage[];
}

/** `c1.ratelimit.v1.RateLimitDescription`. */
export interface RateLimitDescription {
  status?: 'UNKNOWN' | 'OK' | 'OVERLIMIT' | 'ERROR' | 'EMPTY';
  limit?: number;
  remaining?: number;
  count?: number;
  resetAt?: SecondsNanos;
}

export interface SyncFullTaskPayload {
  annotations?: AnyMessage[];
  /** C1 expands grants itself; otherwise the connector does. */
  skipExpandGrants?: boolean;
  /** Resources only. */
  skipEntitlementsAndGrants?: boolean;
  /** A partial sync of just these resources (and what hangs off them). */
  targetedSyncResources?: Resource[];
  /** Only these resource types. */
  syncResourceTypeIds?: string[];
  /** Resources and entitlements, no grants. */
  skipGrants?: boolean;
  /** The storage engine baton-sdk should use ("pebble" or "sqlite"); this connector writes SQLite. */
  storageEngine?: string;
}

export interface GrantTaskPayload {
  entitlement?: Entitlement;
  principal?: Resource;
  annotations?: AnyMessage[];
  duration?: SecondsNanos;
}

export interface RevokeTaskPayload {
  grant?: Grant;
  annotations?: AnyMessage[];
}

/** The members of Task's `task_type` oneof, as protobufjs names them (camelCase), in field order. */
export const TASK_TYPES = [
  'none',
  'hello',
  'syncFull',
  'grant',
  'revoke',
  'createAccount',
  'createResource',
  'deleteResource',
  'rotateCredentials',
  'eventFeed',
  'createTicketTask',
  'listTicketSchemas',
  'getTicket',
  'bulkCreateTickets',
  'bulkGetTickets',
  'actionListSchemas',
  'actionGetSchema',
  'actionInvoke',
  'actionStatus',
  'createSyncDiff',
  'compactSyncs',
  'listEventFeeds',
  'listEvents',
  'issueCredential',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** `Task` as decoded; `taskType` names the oneof member that is set. */
export type TaskMessage = {
  id?: string;
  status?: string;
  debug?: boolean;
  taskType?: TaskType;
  syncFull?: SyncFullTaskPayload;
  grant?: GrantTaskPayload;
  revoke?: RevokeTaskPayload;
  listEvents?: ListEventsTaskPayload;
} & {
  [member in Exclude<TaskType, 'syncFull' | 'grant' | 'revoke' | 'listEvents'>]?: Record<string, unknown>;
};

export interface HelloRequest {
  hostId: string;
  taskId?: string;
  buildInfo: { langVersion: string; package: string; packageVersion: string };
  osInfo: {
    hostname: string;
    os: string;
    platform: string;
    platformVersion: string;
    platformFamily: string;
    kernelVersion: string;
    kernelArch: string;
    virtualizationSystem: string;
  };
  connectorMetadata: ConnectorMetadata;
  annotations?: AnyMessage[];
}

export interface AnnotationsOnly {
  annotations?: AnyMessage[];
}

export interface GetTaskRequest {
  hostId: string;
}

export interface GetTaskResponse {
  task?: TaskMessage;
  nextPoll?: SecondsNanos;
  nextHeartbeat?: SecondsNanos;
  annotations?: AnyMessage[];
}

export interface HeartbeatRequest {
  hostId: string;
  taskId: string;
  annotations?: AnyMessage[];
}

export interface HeartbeatResponse {
  nextHeartbeat?: SecondsNanos;
  cancelled?: boolean;
  annotations?: AnyMessage[];
}

export interface UploadAssetRequest {
  msg?: 'metadata' | 'data' | 'eof';
  metadata?: { hostId?: string; taskId?: string; annotations?: AnyMessage[] };
  data?: { data?: Uint8Array };
  eof?: { sha256Checksum?: Uint8Array; annotations?: AnyMessage[] };
}

export interface FinishTaskRequest {
  hostId: string;
  taskId: string;
  status?: RpcStatus;
  finalState?: 'error' | 'success';
  error?: { nonRetryable?: boolean; annotations?: AnyMessage[]; response?: AnyMessage };
  success?: { annotations?: AnyMessage[]; response?: AnyMessage };
}

const BATON = 'c1.connectorapi.baton.v1.';

function buildCodecs() {
  return {
    helloRequest: codecFor<HelloRequest>(`${BATON}BatonServiceHelloRequest`),
    helloResponse: codecFor<AnnotationsOnly>(`${BATON}BatonServiceHelloResponse`),
    getTaskRequest: codecFor<GetTaskRequest>(`${BATON}BatonServiceGetTaskRequest`),
    getTaskResponse: codecFor<GetTaskResponse>(`${BATON}BatonServiceGetTaskResponse`),
    heartbeatRequest: codecFor<HeartbeatRequest>(`${BATON}BatonServiceHeartbeatRequest`),
    heartbeatResponse: codecFor<HeartbeatResponse>(`${BATON}BatonServiceHeartbeatResponse`),
    finishTaskRequest: codecFor<FinishTaskRequest>(`${BATON}BatonServiceFinishTaskRequest`),
    finishTaskResponse: codecFor<AnnotationsOnly>(`${BATON}BatonServiceFinishTaskResponse`),
    uploadAssetRequest: codecFor<UploadAssetRequest>(`${BATON}BatonServiceUploadAssetRequest`),
    uploadAssetResponse: codecFor<AnnotationsOnly>(`${BATON}BatonServiceUploadAssetResponse`),
    rpcStatus: codecFor<RpcStatus>('google.rpc.Status'),
    rateLimitDescription: codecFor<RateLimitDescription>('c1.ratelimit.v1.RateLimitDescription'),
    listEventFeedsResponse: codecFor<ListEventFeedsResponse>('c1.connector.v2.ListEventFeedsResponse'),
    listEventsResponse: codecFor<ListEventsResponse>('c1.connector.v2.ListEventsResponse'),
    grantResponse: codecFor<{ annotations?: AnyMessage[]; grants?: Grant[] }>(
      'c1.connector.v2.GrantManagerServiceGrantResponse',
    ),
    revokeResponse: codecFor<AnnotationsOnly>('c1.connector.v2.GrantManagerServiceRevokeResponse'),
    grantAlreadyExists: codecFor<Record<string, never>>('c1.connector.v2.GrantAlreadyExists'),
    grantAlreadyRevoked: codecFor<Record<string, never>>('c1.connector.v2.GrantAlreadyRevoked'),
  };
}

let codecs: ReturnType<typeof buildCodecs> | undefined;

/** Codecs for every message service mode sends or receives. Built on first use. */
export function messageCodecs(): ReturnType<typeof buildCodecs> {
  codecs ??= buildCodecs();
  return codecs;
}

/** Packs a message into a `google.protobuf.Any`. */
export function packAny<T>(codec: Codec<T>, value: T): AnyMessage {
  return { typeUrl: codec.typeUrl, value: codec.encode(value) };
}

/** Baton's `GrantAlreadyExists` annotation: the principal already had the entitlement. */
export function grantAlreadyExistsAnnotation(): AnyMessage {
  return packAny(messageCodecs().grantAlreadyExists, {});
}

/** Baton's `GrantAlreadyRevoked` annotation: the principal did not have the entitlement. */
export function grantAlreadyRevokedAnnotation(): AnyMessage {
  return packAny(messageCodecs().grantAlreadyRevoked, {});
}

/** Whether `annotations` hold a message of the given fully qualified type name. */
export function hasAnnotation(annotations: readonly AnyMessage[] | undefined, typeName: string): boolean {
  return (annotations ?? []).some((a) => typeNameOf(a.typeUrl) === typeName);
}

/** Milliseconds in a Duration, or undefined when the field was not sent. */
export function durationToMs(d: SecondsNanos | undefined): number | undefined {
  if (!d) return undefined;
  return (d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

/** A Duration (or Timestamp, from epoch) for `ms` milliseconds. */
export function msToSecondsNanos(ms: number): SecondsNanos {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Decodes the `response` of a finished list_events task (for tests and tools that read C1's side). */
export function decodeListEventsResponse(bytes: Uint8Array): ListEventsResponse {
  return messageCodecs().listEventsResponse.decode(bytes);
}

/** Decodes the `response` of a finished list_event_feeds task. */
export function decodeListEventFeedsResponse(bytes: Uint8Array): ListEventFeedsResponse {
  return messageCodecs().listEventFeedsResponse.decode(bytes);
}
