// C1 service mode: credentials, the BatonService client and the task loop.
export { createC1Client, UPLOAD_CHUNK_BYTES } from './client.js';
export type {
  C1Client,
  C1ClientOptions,
  CallOptions,
  FinishOutcome,
  GetTaskResult,
  HeartbeatResult,
  HelloInfo,
  UploadResult,
} from './client.js';
export {
  audienceOf,
  createClientAssertion,
  createTokenSource,
  generateClientCredentials,
  parseClientId,
  parseClientSecret,
  parseClientSecretKey,
  resolveTokenUrl,
} from './credentials.js';
export type {
  AccessToken,
  ClientSecretKey,
  GeneratedClientCredentials,
  ParsedClientId,
  TokenSource,
} from './credentials.js';
export { C1Error, classifyGrpcError, isNonRetryable, rateLimitWaitMs } from './errors.js';
export type { C1ErrorCode } from './errors.js';
export { defaultHelloInfo } from './hello-info.js';
export type { HelloInfoOptions } from './hello-info.js';
export { runServiceLoop } from './loop.js';
export type {
  GrantResult,
  RevokeResult,
  ServiceLogger,
  ServiceLoopHandlers,
  ServiceLoopOptions,
  SyncFullResult,
  TaskContext,
} from './loop.js';
export {
  decodeListEventFeedsResponse,
  decodeListEventsResponse,
  durationToMs,
  grantAlreadyExistsAnnotation,
  grantAlreadyRevokedAnnotation,
  hasAnnotation,
  TASK_TYPES,
} from './messages.js';
export type {
  AnyMessage,
  Entitlement,
  EventFeedMetadata,
  EventMessage,
  ListEventsResponse,
  ListEventsTaskPayload,
  SyncFullTaskPayload,
  TaskType,
  Grant,
  RateLimitDescription,
  Resource,
  ResourceId,
} from './messages.js';
export type {
  C1Task,
  GrantTask,
  HelloTask,
  ListEventFeedsTask,
  ListEventsTask,
  RevokeTask,
  SyncFullTask,
  UnsupportedTask,
} from './tasks.js';
export { eventMessage, listEventsResponse } from './events.js';
export type { FeedEvent, FeedGrant, ListEventsResult } from './events.js';
