// service_account: `<namespace>/<name>`, a USER-trait resource with the `impersonate` permission
// entitlement (as baton-kubernetes); it receives cluster-role and namespace-role grants as a principal.
import { GRANTABLE_TO, entitlementId, type Entitlement, type Resource } from '../model.js';
import type { MapContext, ResourceMapper } from './context.js';

export const serviceAccountMapper: ResourceMapper = {
  type: 'service_account',
  *resources(ctx: MapContext): Iterable<Resource> {
    for (const sa of ctx.inventory.serviceAccounts) {
      const ns = sa.namespace ?? '';
      yield {
        type: 'service_account',
        id: `${ns}/${sa.name}`,
        displayName: sa.name,
        parent: { type: 'namespace', id: ns },
        profile: {
          name: sa.name,
          namespace: ns,
          ...(sa.uid ? { uid: sa.uid } : {}),
          ...(sa.creationTimestamp ? { creation_timestamp: sa.creationTimestamp } : {}),
        },
        annotations: sa.uid ? [{ type: 'ExternalId', id: sa.uid }] : [],
      };
    }
  },
  *entitlements(ctx: MapContext): Iterable<Entitlement> {
    for (const sa of ctx.inventory.serviceAccounts) {
      const id = `${sa.namespace ?? ''}/${sa.name}`;
      yield {
        id: entitlementId('service_account', id, 'impersonate'),
        resource: { type: 'service_account', id },
        slug: 'impersonate',
        displayName: `Impersonate ${id}`,
        description: `Can impersonate service account ${id}`,
        purpose: 'permission',
        grantableTo: GRANTABLE_TO.service_account ?? [],
      };
    }
  },
  grants: () => [],
};
