import { listChangeEvents } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { eventStreamQuery } from './schemas.js';

/** With no announcement (Postgres LISTEN down), the stream still looks for new events this often. */
const POLL_MS = 5_000;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

const options = route({
  operationId: 'streamEvents',
  summary: 'Stream change events as server-sent events',
  description:
    'A live `text/event-stream` of the change-event log: one SSE event per change (`id` is the event id, `event` its kind, `data` the ChangeEvent as JSON), sent as soon as the change commits. Starts after `cursor`, or after the `Last-Event-ID` header a reconnecting EventSource sends, or else at the newest event (only what happens from now on). Same filters as listEvents.',
  tag: 'events',
  scope: 'read',
  method: 'GET',
  querystring: eventStreamQuery,
  headers: z.object({
    'last-event-id': z
      .string()
      .regex(/^\d{1,18}$/, 'must be an event id (digits)')
      .optional()
      .meta({ description: 'Resume after this event id (what EventSource sends when it reconnects).' }),
  }),
  responses: {
    200: {
      description: 'The event stream; it ends only when the client or the server goes away.',
      schema: z.string(),
      contentType: 'text/event-stream',
      example: examples.eventStream,
    },
  },
});

/** GET /v1/events/stream: change events as server-sent events, live. */
export function registerStreamEvents(app: App, deps: AppDeps): void {
  const open = new Set<() => void>();
  // Streams end when the server closes, so a graceful shutdown does not wait on them.
  app.addHook('preClose', (done) => {
    for (const end of open) end();
    done();
  });
  app.get('/v1/events/stream', options, async (req, reply) => {
    const q = req.query;
    let cursor = q.cursor ?? req.headers['last-event-id'];
    if (cursor === undefined) {
      const { rows } = await deps.database.pool.query<{ id: string | null }>(
        'SELECT max(id)::text AS id FROM change_events',
      );
      cursor = rows[0]?.id ?? '0';
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
    });
    res.write(`retry: 2000\n: after ${cursor}\n\n`);
    const controller = new AbortController();
    const end = () => controller.abort();
    open.add(end);
    res.on('close', end);
    const { signal } = controller;
    void (async () => {
      let lastWrite = Date.now();
      try {
        while (!signal.aborted) {
          const page = await listChangeEvents(deps.database, {
            cursor,
            ...(q.clusterId ? { clusterId: q.clusterId } : {}),
            ...(q.principalArn ? { principalId: q.principalArn } : {}),
            ...(q.kind ? { kinds: q.kind } : {}),
            limit: 500,
          });
          for (const e of page.items)
            res.write(`id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`);
          if (page.items.length > 0) lastWrite = Date.now();
          cursor = page.cursor ?? cursor;
          if (page.hasMore) continue;
          if (Date.now() - lastWrite >= HEARTBEAT_MS) {
            res.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          await deps.eventBell.wait(Math.min(POLL_MS, HEARTBEAT_MS), signal);
        }
      } catch (err) {
        if (!signal.aborted)
          req.log.warn({ err }, 'event stream ended by an error; the client resumes from its last id');
      } finally {
        open.delete(end);
        res.end();
      }
    })();
  });
}
