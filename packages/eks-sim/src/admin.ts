// Placeholder: the admin API is being written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimControl } from './sim.js';

export function createAdminHandler(_sim: SimControl): (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean> {
  return async () => false;
}
