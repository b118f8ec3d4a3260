// Tasks as the service loop and its handlers see them: one variant per task kind this connector
// runs, decoded from the wire `Task` and its `task_type` oneof (every member of C1's baton.proto
// is declared in ours; task-oneof.test.ts holds them against baton-sdk's file).
import type {
  GrantTaskPayload,
  ListEventsTaskPayload,
  RevokeTaskPayload,
  SyncFullTaskPayload,
  TaskMessage,
  TaskType,
} from './messages.js';

export interface HelloTask {
  kind: 'hello';
  id: string;
}

export interface SyncFullTask {
  kind: 'syncFull';
  id: string;
  syncFull: SyncFullTaskPayload;
}

export interface GrantTask {
  kind: 'grant';
  id: string;
  grant: GrantTaskPayload;
}

export interface RevokeTask {
  kind: 'revoke';
  id: string;
  revoke: RevokeTaskPayload;
}

export interface ListEventFeedsTask {
  kind: 'listEventFeeds';
  id: string;
}

export interface ListEventsTask {
  kind: 'listEvents';
  id: string;
  listEvents: ListEventsTaskPayload;
}

/**
 * A task kind this connector does not run (ticketing, account creation, actions, event listing…,
 * or a member newer than our schema); it is answered as baton-sdk answers a type it does not know.
 */
export interface UnsupportedTask {
  kind: 'unsupported';
  id: string;
  /** The oneof member's field name, e.g. `createAccount`, or `unknown` for one newer than our schema. */
  taskType: TaskType | 'unknown';
}

export type C1Task =
  HelloTask | SyncFullTask | GrantTask | RevokeTask | ListEventFeedsTask | ListEventsTask | UnsupportedTask;

/** The task in a GetTask response, or undefined when there is none (no task, or a `none` task). */
export function taskFromMessage(message: TaskMessage | undefined): C1Task | undefined {
  if (!message || message.taskType === 'none') return undefined;
  const id = message.id ?? '';
  if (message.taskType === undefined) {
    // An id without a oneof member we know is a task kind newer than our schema; C1 still
    // expects an answer for it.
    return id ? { kind: 'unsupported', id, taskType: 'unknown' } : undefined;
  }
  const type = message.taskType;
  if (type === 'hello') return { kind: 'hello', id };
  if (type === 'syncFull') return { kind: 'syncFull', id, syncFull: message.syncFull ?? {} };
  if (type === 'grant') return { kind: 'grant', id, grant: message.grant ?? {} };
  if (type === 'revoke') return { kind: 'revoke', id, revoke: message.revoke ?? {} };
  if (type === 'listEventFeeds') return { kind: 'listEventFeeds', id };
  if (type === 'listEvents') return { kind: 'listEvents', id, listEvents: message.listEvents ?? {} };
  return { kind: 'unsupported', id, taskType: type };
}
