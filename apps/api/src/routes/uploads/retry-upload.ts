import { retryUpload } from '@eks-access/db';
import { JOBS } from '@eks-access/queue';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';

/**
 * POST /v1/uploads/{id}/retry: a dead (or failed) upload goes back to pending with a fresh budget
 * of attempts and its job is queued again; 202 with the upload, 409 for an upload in another state.
 * The queue's retries for the job match that budget, so the upload cannot be left without a job.
 */
export function registerRetryUpload(app: App, deps: AppDeps): void {
  app.post('/v1/uploads/:id/retry', { config: { scope: 'sync' }, schema: { params: idParams, tags: ['uploads'] } }, async (req, reply) => {
    await deps.producer.assertAvailable();
    const upload = await retryUpload(deps.database, req.params.id, { attempts: JOBS['upload.snapshot'].attempts, audit: auditOf(req) });
    // The dead letter keeps the job id in the queue's failed set; requeue replaces it.
    await deps.producer.requeue('upload.snapshot', { uploadId: upload.id });
    return reply.status(202).send(upload);
  });
}
