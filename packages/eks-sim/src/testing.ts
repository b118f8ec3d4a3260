// Helpers for tests (ours and other packages'): start only the AWS endpoint over a world built in
// code, with real HTTP, so SDK clients can be pointed at it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAwsHandler, type AwsService } from './aws/server.js';
import { Faults, type FaultRule } from './faults.js';
import type { World } from './world/world.js';

export interface TestAws {
  endpoint: string;
  world: World;
  faults: Faults;
  close(): Promise<void>;
}

/** Starts the AWS endpoint alone (no Kubernetes endpoints) on a free loopback port. */
export async function startTestAws(
  world: World,
  services: AwsService[],
  faults: FaultRule[] = [],
): Promise<TestAws> {
  const f = new Faults(faults);
  const server = createServer(
    createAwsHandler({ world: () => world, faults: f, services, host: '127.0.0.1' }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    world,
    faults: f,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
