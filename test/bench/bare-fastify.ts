// bench:api's baseline: a bare Fastify server (no auth, no database, no schemas, no logging) that
// answers one route with fixed bytes, the body the API returned for the same request. Started as
// its own process, like the API, so the load generator measures both the same way.
// Usage: node bare-fastify.ts <port> <body-file> <content-type> (Node runs it, types stripped).
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, bodyFile, contentType] = process.argv.slice(2) as [string, string, string];
const body = readFileSync(bodyFile);
const app = Fastify({ logger: false });
app.get('/v1/clusters/:id/grants', async (_req, reply) => reply.type(contentType).send(body));
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write(`${JSON.stringify({ msg: 'bare fastify ready', port: Number(port) })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
