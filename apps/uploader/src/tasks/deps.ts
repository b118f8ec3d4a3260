// What the task handlers of one cluster's service loop need.
import type { Database } from '@eks-access/db';
import type { Producer } from '@eks-access/queue';

export interface TaskDeps {
  database: Database;
  producer: Producer;
  clusterId: string;
  /** Attempts of an upload before it is dead. */
  uploadMaxAttempts: number;
  /** How often a task re-reads the sync run, upload or request it waits on. */
  pollMs: number;
}

/** Who acts, in audit events and as the requester of provisioning requests: the cluster's C1 connector. */
export function c1Actor(clusterId: string): string {
  return `c1:${clusterId}`;
}
