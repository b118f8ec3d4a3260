// namespace: Kubernetes namespaces. No entitlements or grants of their own; they parent namespace
// roles and service accounts, and they are the scopes of `<ns>:member` and `assigned:<ns>`.
import type { Resource } from '../model.js';
import type { MapContext, ResourceMapper } from './context.js';

export const namespaceMapper: ResourceMapper = {
  type: 'namespace',
  *resources(ctx: MapContext): Iterable<Resource> {
    for (const n of ctx.inventory.namespaces) {
      yield {
        type: 'namespace',
        id: n.name,
        displayName: n.name,
        profile: {
          name: n.name,
          ...(n.uid ? { uid: n.uid } : {}),
          ...(n.creationTimestamp ? { creation_timestamp: n.creationTimestamp } : {}),
          ...(n.labels ? { labels: n.labels } : {}),
        },
        annotations: [
          { type: 'ChildResourceType', resourceTypeId: 'service_account' },
          ...(n.uid ? [{ type: 'ExternalId' as const, id: n.uid }] : []),
        ],
      };
    }
  },
  entitlements: () => [],
  grants: () => [],
};
