// Placeholder: the Kubernetes API is being written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from '../faults.js';
import type { Cluster } from '../world/types.js';
import type { World } from '../world/world.js';

export interface KubeHandlerDeps {
  cluster: () => Cluster | undefined;
  world: () => World;
  faults: Faults;
  now?: () => Date;
}

export function createKubeRequestHandler(_deps: KubeHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(501).end();
  };
}
