// Writes a sync's snapshot as a c1z file (C1's own format, as baton-eks writes sync.c1z), keeping
// the grants that stream by for the summary, so the snapshot is produced once.
import { writeC1z } from '@eks-access/c1';
import type { ClusterSync, Grant } from '@eks-access/eks-core';

/** Streams the sync into `path` as c1z and returns the grants it wrote. */
export async function writeSyncC1z(
  path: string,
  sync: ClusterSync,
): Promise<{ grants: Grant[]; fileBytes: number }> {
  const grants: Grant[] = [];
  const result = await writeC1z(path, {
    resourceTypes: sync.resourceTypes,
    resources: () => sync.resources(),
    entitlements: () => sync.entitlements(),
    grants: async function* () {
      for await (const g of sync.grants()) {
        grants.push(g);
        yield g;
      }
    },
  });
  return { grants, fileBytes: result.fileBytes };
}
