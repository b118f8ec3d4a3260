// A TCP proxy that passes the first `forwardBytes` a client sends and then holds the rest, so a
// streaming upload through it is reliably caught mid-stream. Closing a client socket (its process
// was killed) closes the upstream one, as the server would see it.
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  target: string;
  /** Bytes from clients that were held back rather than forwarded. */
  held(): number;
  close(): Promise<void>;
}

export async function startHoldingProxy(upstream: string, forwardBytes: number): Promise<HoldingProxy> {
  const [host, port] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1)),
  ];
  let forwarded = 0;
  let held = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = connect(port, host);
    sockets.add(client).add(server);
    client.on('data', (chunk: Buffer) => {
      const room = Math.max(0, forwardBytes - forwarded);
      if (room > 0) server.write(chunk.subarray(0, room));
      forwarded += Math.min(room, chunk.length);
      held += Math.max(0, chunk.length - room);
    });
    server.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
