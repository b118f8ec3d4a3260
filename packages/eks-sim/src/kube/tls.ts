// Placeholder: per-cluster CA and serving certificate generation is being written.
import type { ClusterTls } from '../world/types.js';

export async function createClusterTls(_clusterName: string, _hostNames: string[]): Promise<ClusterTls> {
  throw new Error('not implemented');
}
