// C1's event-feed tasks for one cluster, answered from the change-event log in Postgres (the
// watcher's incremental changes and each full sync's difference): list_event_feeds names the one
// feed, list_events reads a page of it after C1's cursor. The cursor is the last event's id, so a
// page resumes exactly where the one before it ended, whichever uploader process answers it.
// Findings are not sent (C1's feed has no event for them; the API and its stream carry them).
import {
  durationToMs,
  type EventFeedMetadata,
  type FeedEvent,
  type ListEventsResult,
  type ListEventsTask,
} from '@eks-access/c1';
import {
  InvalidInputError,
  listChangeEvents,
  MAX_EVENT_PAGE,
  type ChangeEvent,
  type ChangeEventKind,
} from '@eks-access/db';
import type { TaskDeps } from './deps.js';
import { taskError } from './task-error.js';

/** The feed this connector serves; an empty event_feed_id means it too (baton-sdk's default feed). */
export const EVENT_FEED_ID = 'eks_access_changes';
/** Events per page when C1 does not say. */
export const DEFAULT_EVENT_PAGE = 100;
const FEED_KINDS: readonly ChangeEventKind[] = ['grant', 'revoke', 'resource_change'];

export function eventFeeds(): EventFeedMetadata[] {
  return [{ id: EVENT_FEED_ID, supportedEventTypes: ['EVENT_TYPE_RESOURCE_CHANGE'] }];
}

type Ref = { type: string; id: string };
const isRef = (v: unknown): v is Ref =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Ref).type === 'string' &&
  typeof (v as Ref).id === 'string';

/** The feed event of a logged change, or undefined for one C1's feed has no event for. */
export function feedEventOf(e: ChangeEvent): FeedEvent | undefined {
  const base = { id: e.id, occurredAt: e.occurredAt };
  if ((e.kind === 'grant' || e.kind === 'revoke') && e.principal && e.resource && e.entitlementId) {
    const grant = {
      id: e.grantId ?? '',
      entitlementId: e.entitlementId,
      resource: e.resource,
      principal: e.principal,
    };
    return e.kind === 'grant' ? { ...base, kind: 'grant', grant } : { ...base, kind: 'revoke', grant };
  }
  if (e.kind === 'resource_change' && e.resource) {
    const detail = e.detail as { before?: { parent?: unknown } | null; after?: { parent?: unknown } | null };
    const parent = detail.after?.parent ?? detail.before?.parent;
    return { ...base, kind: 'resourceChange', resource: e.resource, parent: isRef(parent) ? parent : null };
  }
  return undefined;
}

/** One page of the cluster's feed after the task's cursor (or from start_at, or the start). */
export async function runListEventsTask(deps: TaskDeps, task: ListEventsTask): Promise<ListEventsResult> {
  const { cursor = '', startAt, eventFeedId = '', pageSize = 0 } = task.listEvents;
  if (eventFeedId !== '' && eventFeedId !== EVENT_FEED_ID)
    throw taskError('NOT_FOUND', `event feed ${eventFeedId.slice(0, 100)} not found`, false);
  if (pageSize > MAX_EVENT_PAGE)
    throw taskError(
      'INVALID_ARGUMENT',
      `page_size must be at most ${MAX_EVENT_PAGE} (got ${pageSize})`,
      false,
    );
  // A Timestamp is a Duration since the epoch; unset or zero means no start.
  const sinceMs = durationToMs(startAt);
  const since = sinceMs ? new Date(sinceMs) : undefined;
  let page;
  try {
    page = await listChangeEvents(deps.database, {
      clusterId: deps.clusterId,
      kinds: FEED_KINDS,
      limit: pageSize || DEFAULT_EVENT_PAGE,
      ...(cursor === '' ? {} : { cursor }),
      ...(since ? { startAt: since } : {}),
    });
  } catch (err) {
    if (err instanceof InvalidInputError)
      throw taskError('INVALID_ARGUMENT', `${err.message} (not a cursor this connector gave)`, false);
    throw err;
  }
  const events: FeedEvent[] = [];
  for (const e of page.items) {
    const event = feedEventOf(e);
    if (event) events.push(event);
  }
  return { events, cursor: page.cursor ?? '', hasMore: page.hasMore };
}
