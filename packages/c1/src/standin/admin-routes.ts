// The stand-in's admin API, beside the token endpoint, for docker compose and cross-process tests:
// queue tasks, cancel them, inject faults and read back what the connector sent.
//   POST /admin/tasks                 one task_type member: {syncFull:{…}} | {grant:{entitlement, principal}}
//                                     | {revoke:{grant}} | {hello:{}} | {listEventFeeds:{}} | {createAccount:{}} … → {taskId}
//   GET  /admin/tasks/:id             state, heartbeats, uploads (size, chunks, sha256), last FinishTask
//   GET  /admin/tasks/:id/uploads/:n  the n-th upload's bytes
//   POST /admin/tasks/:id/cancel
//   POST /admin/faults                {method, count, fault}
//   GET  /admin/counters
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TASK_TYPES } from '../service/messages.js';
import type { BatonMethod, Fault, TaskSpec } from './baton-service.js';
import type { StandInC1 } from './stand-in.js';

const MAX_BODY_BYTES = 1024 * 1024;
const METHODS = new Set<BatonMethod>(['Hello', 'GetTask', 'Heartbeat', 'FinishTask', 'UploadAsset']);
const TASK_KINDS: readonly string[] = TASK_TYPES.filter((t) => t !== 'none');

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Handles a request under /admin; false when the path is not an admin route. */
export async function handleAdminRequest(
  standIn: Omit<StandInC1, 'close'>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  if (!path.startsWith('/admin/')) return false;
  try {
    const parts = path.split('/').slice(2);
    const [collection, id, sub, index] = parts;
    if (req.method === 'POST' && collection === 'tasks' && parts.length === 1) {
      const spec = (await readJson(req)) as TaskSpec;
      const kinds = Object.keys(spec).filter((k) => TASK_KINDS.includes(k));
      if (kinds.length !== 1)
        throw new AdminError(400, `body must have exactly one of ${TASK_KINDS.join(', ')}`);
      const kind = kinds[0] ?? '';
      const payload = (spec as Record<string, unknown>)[kind] ?? {};
      sendJson(res, 201, { taskId: standIn.enqueueTask({ [kind]: payload } as TaskSpec) });
    } else if (req.method === 'GET' && collection === 'tasks' && id && parts.length === 2) {
      const task = standIn.task(id);
      if (!task) throw new AdminError(404, 'unknown task');
      sendJson(res, 200, {
        id: task.id,
        state: task.state,
        cancelled: task.cancelled,
        heartbeats: task.heartbeats.length,
        uploads: task.uploads.map((u) => ({
          bytes: u.bytes.length,
          chunks: u.chunkSizes.length,
          sha256: u.sha256,
        })),
        finished: task.finishes.at(-1) ?? null,
        hellos: task.hellos.length,
      });
    } else if (
      req.method === 'GET' &&
      collection === 'tasks' &&
      id &&
      sub === 'uploads' &&
      index !== undefined
    ) {
      const upload = standIn.uploads(id)[Number(index)];
      if (!upload) throw new AdminError(404, 'no such upload');
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': upload.bytes.length,
      });
      res.end(upload.bytes);
    } else if (req.method === 'POST' && collection === 'tasks' && id && sub === 'cancel') {
      if (!standIn.task(id)) throw new AdminError(404, 'unknown task');
      standIn.cancelTask(id);
      sendJson(res, 200, { cancelled: true });
    } else if (req.method === 'POST' && collection === 'faults') {
      const body = (await readJson(req)) as { method?: BatonMethod; count?: number; fault?: Fault };
      if (!body.method || !METHODS.has(body.method) || !body.fault || typeof body.count !== 'number') {
        throw new AdminError(400, 'body must be {method, count, fault}');
      }
      standIn.failNext(body.method, body.count, body.fault);
      sendJson(res, 200, { queued: body.count });
    } else if (req.method === 'GET' && collection === 'counters') {
      sendJson(res, 200, standIn.counters());
    } else {
      throw new AdminError(404, 'no such admin route');
    }
  } catch (err) {
    const status = err instanceof AdminError ? err.status : 400;
    sendJson(res, status, { error: err instanceof Error ? err.message : 'bad request' });
  }
  return true;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AdminError(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value;
  } catch {
    throw new AdminError(400, 'body must be a JSON object');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Bytes (annotation values) as base64; Buffer's own toJSON runs before the replacer.
  const payload = JSON.stringify(body, (_key, value: unknown) => {
    const buffer = value as { type?: unknown; data?: unknown } | null;
    return buffer?.type === 'Buffer' && Array.isArray(buffer.data)
      ? Buffer.from(buffer.data as number[]).toString('base64')
      : value;
  });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
