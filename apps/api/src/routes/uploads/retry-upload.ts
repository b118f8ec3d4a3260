import { retryUpload } from '@eks-access/db';
import { JOBS } from '@eks-access/queue';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { assertQueueRoom } from '../queue-room.js';
import { auditOf, idParams } from '../common.js';
import { uploadOut } from './schemas.js';

const options = route({
  operationId: 'retryUpload',
  summary: 'Retry a dead upload',
  description:
    'A dead (or failed) upload goes back to pending with a fresh budget of attempts, and its job is queued again.',
  tag: 'uploads',
  scope: 'sync',
  method: 'POST',
  params: idParams,
  responses: {
    202: { description: 'The upload, pending again.', schema: uploadOut, example: examples.retriedUpload },
  },
  errors: {
    404: { when: 'No upload has this id.', example: 'upload e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b not found' },
    409: {
      when: 'The upload is not dead or failed (it is pending, uploading or succeeded).',
      example:
        'upload e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b is succeeded; only dead or failed uploads can be retried',
    },
  },
});

/**
 * POST /v1/uploads/{id}/retry: a dead (or failed) upload goes back to pending with a fresh budget
 * of attempts and its job is queued again; 202 with the upload, 409 for an upload in another state.
 * The queue's retries for the job match that budget, so the upload cannot be left without a job.
 */
export function registerRetryUpload(app: App, deps: AppDeps): void {
  app.post('/v1/uploads/:id/retry', options, async (req, reply) => {
    await assertQueueRoom(deps, 'c1-upload');
    const upload = await retryUpload(deps.database, req.params.id, {
      attempts: JOBS['upload.snapshot'].attempts,
      audit: auditOf(req),
    });
    // The dead letter keeps the job id in the queue's failed set; requeue replaces it.
    await deps.producer.requeue('upload.snapshot', { uploadId: upload.id });
    return reply.status(202).send(upload);
  });
}
