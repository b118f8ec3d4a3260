// Event feeds: what a list_events task answers. A connector's events are grants that appeared
// (`GrantEvent`, the whole grant), grants that went (`RevokeEvent`, its entitlement and principal)
// and resources that changed (`ResourceChangeEvent`), each with the id and time it occurred, in the
// feed's order; the page carries the cursor that resumes right after its last event. Shapes follow
// baton-sdk's c1.connector.v2 event_feed.proto and its connectorbuilder's ListEvents.
import type { ResourceRef } from '@eks-access/model';
import type { EventMessage, ListEventsResponse } from './messages.js';
import { msToSecondsNanos } from './messages.js';

/** The grant an event is about, in the ids C1 knows it by (those of the synced c1z). */
export interface FeedGrant {
  id: string;
  entitlementId: string;
  /** The resource the entitlement belongs to. */
  resource: ResourceRef;
  principal: ResourceRef;
}

/** One event of a feed. */
export type FeedEvent = { id: string; occurredAt: Date } & (
  | { kind: 'grant'; grant: FeedGrant }
  | { kind: 'revoke'; grant: FeedGrant }
  | { kind: 'resourceChange'; resource: ResourceRef; parent?: ResourceRef | null }
);

/** One page of a feed, as a list_events handler answers it. */
export interface ListEventsResult {
  events: FeedEvent[];
  /** Resumes right after the page's last event (or where the request started, for an empty page). */
  cursor: string;
  /** More events follow right away: ask again with `cursor` now rather than at the next poll. */
  hasMore: boolean;
}

const resourceId = (ref: ResourceRef) => ({ resourceType: ref.type, resource: ref.id });

function entitlementOf(grant: FeedGrant) {
  return { id: grant.entitlementId, resource: { id: resourceId(grant.resource) } };
}

/** The `c1.connector.v2.Event` of one feed event. */
export function eventMessage(event: FeedEvent): EventMessage {
  const base = { id: event.id, occurredAt: msToSecondsNanos(event.occurredAt.getTime()) };
  switch (event.kind) {
    case 'grant':
      return {
        ...base,
        grantEvent: {
          grant: {
            id: event.grant.id,
            entitlement: entitlementOf(event.grant),
            principal: { id: resourceId(event.grant.principal) },
          },
        },
      };
    case 'revoke':
      return {
        ...base,
        revokeEvent: {
          entitlement: entitlementOf(event.grant),
          principal: { id: resourceId(event.grant.principal) },
        },
      };
    case 'resourceChange':
      return {
        ...base,
        resourceChangeEvent: {
          resourceId: resourceId(event.resource),
          ...(event.parent ? { parentResourceId: resourceId(event.parent) } : {}),
        },
      };
  }
}

/** The `c1.connector.v2.ListEventsResponse` of a page. */
export function listEventsResponse(result: ListEventsResult): ListEventsResponse {
  return { events: result.events.map(eventMessage), cursor: result.cursor, hasMore: result.hasMore };
}
